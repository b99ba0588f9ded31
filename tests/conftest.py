"""Fixtures: a fresh app and database per test, on SQLite or PostgreSQL (TEST_DATABASE).

Time: a test that needs a known instant asks for `clock` (frozen at CLOCK_START); it is started
before every other function-scoped fixture, so sign-ins and rows made by fixtures are on it too.
Every other test runs on the wall clock. TICKETFLOW_TEST_SHIFT_DAYS=365 moves the wall clock
(ticking) that many days for the whole run, to prove the suite does not depend on the day it runs:

    TICKETFLOW_TEST_SHIFT_DAYS=365 .venv/bin/python -m pytest -q

`clock` itself stays on CLOCK_START then: tests name its calendar days (that Monday, the weekend
after it, holidays), and a test mixing the wall clock with it is what the shifted run should catch.
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import g

from app import create_app
from app.extensions import db
from tests.postgres import TempPostgres

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
ROOT = Path(__file__).resolve().parent.parent
# Monday 09:00 UTC: tests count business days and hours from it, and name dates after it.
CLOCK_START = datetime(2026, 11, 23, 9, tzinfo=UTC)
SHIFT_DAYS = os.environ.get("TICKETFLOW_TEST_SHIFT_DAYS", "").strip()
_shifted_wall_clock = None


def pytest_configure(config):
    """With TICKETFLOW_TEST_SHIFT_DAYS, run everything (collection too) on a shifted, ticking clock."""
    global _shifted_wall_clock
    if SHIFT_DAYS and _shifted_wall_clock is None:
        _shifted_wall_clock = time_machine.travel(
            datetime.now(UTC) + timedelta(days=float(SHIFT_DAYS)), tick=True
        )
        _shifted_wall_clock.start()


def pytest_unconfigure(config):
    global _shifted_wall_clock
    if _shifted_wall_clock is not None:
        _shifted_wall_clock.stop()
        _shifted_wall_clock = None


def pytest_report_header(config):
    if _shifted_wall_clock is not None:
        return f"wall clock shifted by {SHIFT_DAYS} days (TICKETFLOW_TEST_SHIFT_DAYS): now {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return None


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
    """Frozen time at CLOCK_START; move it instead of sleeping: `clock.shift(timedelta(hours=49))`."""
    with time_machine.travel(CLOCK_START, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _clock_first(request):
    """Start `clock` before any other function-scoped fixture of a test that uses it.

    Otherwise a fixture listed before it (a sign-in, rows with timestamps) would run on the wall
    clock and the test then on 2026-11-23: a session cookie signed "in the future" is refused, a
    row made "later" sorts first. Autouse fixtures run first in their scope, so this one does.
    """
    if "clock" in request.fixturenames:
        request.getfixturevalue("clock")
