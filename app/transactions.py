"""Write transactions outside engine commands: `BEGIN IMMEDIATE` on SQLite, one commit at the end.

A deferred SQLite transaction that has read cannot upgrade to a write while another connection
writes: it fails at once with "database is locked" instead of waiting. Engine commands therefore
begin with `BEGIN IMMEDIATE` (app/engine's runner), and every other write (sign-in bookkeeping,
admin pages, uploads, the CLI, the worker's handlers) goes through `write_transaction()`, which
does the same. The engine's `begin` hook reads `immediate_begin` to choose the statement.

`only_read()` notes that an open transaction has only read (the API's token check), so that on
PostgreSQL the request's engine command goes on in it instead of committing it first.

Process state is not written here: that stays the engine's, through its commands.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

# True while a write transaction (an engine command or `write_transaction`) is being begun.
immediate_begin: ContextVar[bool] = ContextVar("ticketflow_immediate", default=False)
# session.info: the open transaction, noted by `only_read` as having only read so far.
_ONLY_READ = "ticketflow_only_read"


def only_read() -> None:
    """Note that the session's open transaction has only read (an API request's token check).

    On PostgreSQL the request's engine command may then go on in it instead of committing it first
    (app/engine's runner). A flush in the same transaction forgets the note, and a commit ends the
    transaction it names. Code between the note and a command writes through `write_transaction`,
    which commits first, and takes no row locks.
    """
    session = db.session()
    if session.in_transaction():
        session.info[_ONLY_READ] = session.get_transaction()


def has_only_read(session) -> bool:
    """True when the session's open transaction is the one `only_read` noted, and nothing was
    flushed in it since."""
    noted = session.info.get(_ONLY_READ)
    return noted is not None and noted is session.get_transaction()


@event.listens_for(Session, "after_flush")
def _flushed(session, _context) -> None:
    session.info.pop(_ONLY_READ, None)


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block in one write transaction, begun at once (`BEGIN IMMEDIATE` on SQLite).

    A read transaction the caller left open is ended first; change rows inside the block, not
    before it, or they would be flushed by that deferred commit. Commits when the block ends,
    rolls back if it raises. A lock held longer than the busy timeout raises
    `sqlalchemy.exc.OperationalError` ("database is locked"), which app/errors.py answers with 503.
    """
    session = db.session()
    if session.in_transaction():
        session.commit()
    token = immediate_begin.set(True)
    try:
        session.connection()  # begin now, while the flag is set: the lock is taken here
    except BaseException:
        session.rollback()
        raise
    finally:
        immediate_begin.reset(token)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
