"""A live Ticketflow server for the hostile-diagram battery: `python -m tests.security.live_server DB`.

It builds the schema on a fresh SQLite file, makes an admin with an API token and a customer,
serves the app with its embedded worker on a free port (threaded, as `make run` does), and
prints one JSON line `{"port", "token", "customer_id"}` when it is ready.
"""

import json
import sys

from werkzeug.serving import make_server


def main(db_path: str) -> None:
    from app import create_app
    from app.extensions import db
    from tests.factories import make_customer, make_team, make_user, token_for

    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "TESTING": False}
    setup = create_app(config)
    with setup.app_context():
        db.create_all()
        make_team("support")
        token = token_for(make_user("admin", "admin", teams=("support",)))
        customer_id = make_customer().id
        db.engine.dispose()
    app = create_app({**config, "EMBEDDED_WORKER": True, "WORKER_SWEEP_SECONDS": 0.2})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(json.dumps({"port": server.server_port, "token": token, "customer_id": customer_id}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
