"""Ticketflow: BPMN process orchestration for customer-service tickets.

`create_app()` builds the Flask application; nothing is created at import time.
"""

import logging
import os

from flask import Flask, jsonify

from app.config import Config, TestConfig
from app.extensions import db, migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI, and (optionally) the embedded worker."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(TestConfig if test_config is not None else Config)
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    from app import models  # noqa: F401  (register tables)
    from app.engine import init_sqlite

    with app.app_context():
        init_sqlite(db.engine)

    from app.api import bp as api_bp
    from app.api.errors import register_app_handlers
    from app.extensions import csrf

    app.register_blueprint(api_bp)
    register_app_handlers(app)

    from app.web import register_web

    register_web(app)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies

    @app.get("/healthz")
    def healthz():
        """Answer when the server is up and its database reachable."""
        db.session.execute(db.text("SELECT 1"))
        return jsonify({"status": "ok"})

    from app.cli import register_cli

    register_cli(app)
    if app.config.get("EMBEDDED_WORKER"):
        _embed_worker(app)
    return app


def _embed_worker(app: Flask) -> None:
    from app.worker import Worker

    worker = Worker(app)
    app.extensions["ticketflow_worker"] = worker
    worker.start()

    @app.after_request
    def wake_worker(response):
        if response.status_code < 400 and _is_write():
            worker.wake()
        return response


def _is_write() -> bool:
    from flask import request

    return request.method in ("POST", "PUT", "PATCH", "DELETE")
