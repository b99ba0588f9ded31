"""The command runner: one write transaction per command, optimistic retries.

Every state change goes through `run_command`. A command loads its instance, acts through
SpiffWorkflow, and `save` (store.py) writes the workflow (without its spec), the projections,
the history and the instance status in the same transaction; `run_command` writes the
command's history rows and commits.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.engine.errors import Conflict
from app.engine.runtime import history, kept, observers
from app.engine.runtime.inline import INLINE_OFF, InlineFailed
from app.extensions import db
from app.transactions import has_only_read
from app.transactions import immediate_begin as _immediate

log = logging.getLogger(__name__)
T = TypeVar("T")


def init_sqlite(engine, busy_timeout_ms: int = 10000) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for commands and write transactions (SQLite only)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def run_command(body: Callable[[], T], retries: int | None = None) -> T:
    """Run `body` in one write transaction and commit; retry on a lost optimistic race.

    Args:
        retries: attempts before giving up (config COMMAND_RETRIES when None).

    Raises:
        EngineError: whatever the command raises on purpose; nothing is committed then.
        Conflict: every attempt lost a race with another command (409); nothing was saved.
    """
    session = db.session()
    if history.in_command(session):  # called from inside a command: join its transaction
        return body()
    started, outcome = time.perf_counter(), "error"
    try:
        result = _run(session, body, retries)
        outcome = "ok"
        return result
    except Conflict:
        outcome = "conflict"
        raise
    finally:  # the observers (metrics) see every outermost command, whatever its end
        observers.notify(body, time.perf_counter() - started, outcome)


def _run(session, body: Callable[[], T], retries: int | None) -> T:
    if session.in_transaction() and not _continues(session):
        session.commit()  # end a read transaction the caller left open
    if retries is None:
        retries = current_app.config.get("COMMAND_RETRIES", 5)
    attempt = 0
    session.info[INLINE_OFF] = off = set()
    try:
        while attempt < retries:
            token = _immediate.set(True)
            history.begin(session)
            kept.begin(session)
            try:
                result = body()
                history.write(session)
                session.commit()
                return result
            except InlineFailed as failed:  # again, with that handler as a job (runtime/inline.py)
                session.rollback()
                if failed.element_id in off:
                    raise RuntimeError(
                        f"{failed.element_id} ran inline although it was turned off"
                    ) from failed
                off.add(failed.element_id)
            except (StaleDataError, OperationalError) as exc:
                session.rollback()
                if isinstance(exc, OperationalError) and not _retryable(exc):
                    raise
                attempt += 1
                log.info("command retried after conflict (%s), attempt %s", type(exc).__name__, attempt)
            except BaseException:
                session.rollback()
                raise
            finally:
                kept.end(session)
                history.end(session)
                _immediate.reset(token)
    finally:
        session.info.pop(INLINE_OFF, None)
    raise Conflict(
        f"the ticket was changed by other commands at the same time, {retries} times in a row; "
        "nothing was saved, try again"
    )


def _continues(session) -> bool:
    """Whether the command goes on in the read transaction its caller left open: on PostgreSQL,
    when that transaction was noted as having only read (`app.transactions.only_read`, the API's
    token check) and nothing is pending in the session. Under READ COMMITTED each statement reads
    what a new transaction would, so this saves a COMMIT and a BEGIN and the connection's return
    to the pool between them. SQLite must begin again, with BEGIN IMMEDIATE."""
    return (
        session.get_bind().dialect.name == "postgresql"
        and has_only_read(session)
        and not (session.new or session.dirty or session.deleted)
    )


def _retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(s in text for s in ("locked", "deadlock", "could not serialize", "busy"))
