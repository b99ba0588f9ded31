"""Fixtures: a fresh app and database per test, on SQLite or PostgreSQL (TEST_DATABASE)."""

import os
from pathlib import Path

import pytest
import time_machine
from flask import g

from app import create_app
from app.extensions import db
from tests.postgres import TempPostgres

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def postgres_url():
    if BACKEND != "postgresql":
        yield None
        return
    server = TempPostgres()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _pg_schema(postgres_url):
    """Create the schema once per session on PostgreSQL; tests truncate instead of recreating."""
    if postgres_url is None:
        return None
    app = create_app({"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return postgres_url


@pytest.fixture
def app(tmp_path, _pg_schema):
    if _pg_schema:
        app = create_app({"SQLALCHEMY_DATABASE_URI": _pg_schema})
        with app.app_context():
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(db.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
    else:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}"})
        with app.app_context():
            db.create_all()
    @app.before_request
    def _fresh_request_globals():
        # Test requests reuse the test's app context; give each request its own `g` (as in
        # production), or Flask-Login's user and Flask-WTF's CSRF token leak between requests.
        g.__dict__.clear()

    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def clock():
    """Move time instead of sleeping: `clock.shift(timedelta(hours=49))`."""
    with time_machine.travel("2026-11-23 09:00:00+00:00", tick=False) as traveller:
        yield traveller
