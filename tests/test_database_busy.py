"""A write that waits for another's lock longer than the busy timeout answers 503 with Retry-After
(a styled page, JSON for the API), never 500, and works again once the lock is gone.

A second connection holds the lock: `BEGIN IMMEDIATE` on SQLite, `LOCK TABLE ... IN EXCLUSIVE
MODE` (reads pass, writes wait) on PostgreSQL. The app's lock waits are cut to 50 ms for the test.
"""

import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import LoginAttempt, Team
from tests.factories import csrf_of, login, make_user, token_for

BROWSER = {"Accept": "text/html"}


@pytest.fixture
def short_lock_waits(app):
    """Every new connection of the app gives up on a lock after 50 ms."""

    @event.listens_for(db.engine, "connect")
    def _short(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=50")
        else:
            cursor.execute("SET lock_timeout = '50ms'")
        cursor.close()

    db.session.remove()
    db.engine.dispose()
    return app


@contextmanager
def write_lock(table: str):
    """Another connection holds the write lock (of `table` on PostgreSQL) until the block ends."""
    if db.engine.dialect.name == "sqlite":
        other = sqlite3.connect(db.engine.url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = create_engine(db.engine.url)
    with engine.connect() as other:
        other.execute(text(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE'))
        try:
            yield
        finally:
            other.rollback()
    engine.dispose()


def _sign_in(client, password):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": "alice", "password": password, "csrf_token": token}, headers=BROWSER
    )


def test_sign_in_answers_503_with_retry_after_while_another_connection_holds_the_lock(
    short_lock_waits, client
):
    make_user("alice", "agent", password="pw")
    with write_lock("login_attempt"):
        busy = _sign_in(client, "wrong")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert "We are busy right now" in busy.get_data(as_text=True)
        assert _sign_in(client, "pw").status_code == 503
    assert db.session.execute(db.select(db.func.count(LoginAttempt.id))).scalar() == 0  # nothing half-saved
    assert _sign_in(client, "wrong").status_code == 401
    assert _sign_in(client, "pw").status_code == 302


def test_the_api_reads_while_the_database_is_write_locked(short_lock_waits, client):
    token = token_for(make_user("admin", "admin"))
    with write_lock("api_token"):  # the token's last use cannot be written: skipped, not an error
        answer = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


class _Orig(Exception):
    def __init__(self, message, sqlstate=None):
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.fixture
def locked_routes(app):
    def fail(kind: str):
        orig = {
            "sqlite": _Orig("database is locked"),
            "pg-lock-timeout": _Orig("canceling statement due to lock timeout", "55P03"),
            "pg-serialization": _Orig("could not serialize access", "40001"),
            "other": _Orig("no such table: nowhere"),
        }[kind]
        raise OperationalError("UPDATE something", {}, orig)

    app.add_url_rule("/locked/<kind>", "locked_page", fail)
    app.add_url_rule("/api/locked/<kind>", "locked_api", fail)
    return app


@pytest.mark.parametrize("kind", ["sqlite", "pg-lock-timeout", "pg-serialization"])
def test_a_lock_timeout_is_a_503_in_json_for_the_api(client, locked_routes, kind):
    answer = client.get(f"/api/locked/{kind}")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json == {"error": "the database is busy; nothing was saved, try again shortly"}
    assert client.get(f"/locked/{kind}", headers=BROWSER).status_code == 503


def test_any_other_database_error_stays_a_logged_500(client, locked_routes):
    answer = client.get("/api/locked/other")
    assert answer.status_code == 500 and "Retry-After" not in answer.headers


def test_an_admin_page_write_answers_503_under_the_lock_and_saves_once_it_is_gone(short_lock_waits, client):
    make_user("root", "admin", password="pw")
    login(client, "root")
    token = csrf_of(client.get("/admin/users").get_data(as_text=True))
    form = {"key": "vip", "name": "VIP", "strategy": "skills", "csrf_token": token}
    with write_lock("team"):
        assert client.post("/admin/teams", data=form, headers=BROWSER).status_code == 503
    assert db.session.execute(db.select(Team).where(Team.key == "vip")).scalar() is None
    assert client.post("/admin/teams", data=form, headers=BROWSER).status_code == 302
    assert db.session.execute(db.select(Team).where(Team.key == "vip")).scalar() is not None
