"""`/healthz` answers while the process and its database do; `/readyz` also wants the schema current."""

from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests.test_migrations import _fresh_url


def _app(url):
    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def test_ready_only_when_the_migrations_are_at_their_head(tmp_path, postgres_url):
    app = _app(_fresh_url(tmp_path, postgres_url))
    client = app.test_client()

    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {
        "status": "unavailable",
        "database": "database has no migration table",
        "error": "not ready: database has no migration table",
    }
    assert client.get("/healthz").status_code == 200  # alive, just not ready

    with app.app_context():
        upgrade(revision="0009_dashboard_stats")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["migrations"] == "behind" and body["current"] == ["0009_dashboard_stats"]
    assert body["expected"] and body["expected"] != body["current"]

    with app.app_context():
        upgrade()
    answer = client.get("/readyz")
    assert (answer.status_code, answer.get_json()) == (
        200,
        {"status": "ready", "database": "reachable", "migrations": "current"},
    )
    with app.app_context():  # a newer release's expand migration: this older code still serves
        db.session.execute(db.text("UPDATE alembic_version SET version_num = '9999_newer_release'"))
        db.session.commit()
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json()["migrations"] == "ahead"
    with app.app_context():
        db.engine.dispose()


def test_an_unreachable_database_is_503_with_a_readable_body(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'ticketflow.db'}")
    client = app.test_client()
    for path in ("/healthz", "/readyz"):
        answer = client.get(path)
        assert answer.status_code == 503, path
        assert answer.get_json()["database"] in {"unreachable", "database unreachable"}
