"""A transaction that is always rolled back: process tests run the real commands inside it.

The caller's session is set aside; `db.session` is, for the block, a session on one connection
whose outer transaction is rolled back at the end (`join_transaction_mode="create_savepoint"`:
every command's commit only releases a savepoint). Nothing a test does is ever seen by another
connection, and nothing stays. On SQLite the outer transaction holds the write lock for the
block's length, so a test run is bounded in time (`PROCESS_TEST_SECONDS`).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from app.extensions import db
from app.transactions import immediate_begin


@contextmanager
def rolled_back() -> Iterator[Session]:
    """Run the block with `db.session` bound to a transaction that is rolled back afterwards."""
    outer_session = db.session()
    if outer_session.in_transaction():
        outer_session.commit()  # end what the caller left open (a read), as commands do
    connection = db.engine.connect()
    token = immediate_begin.set(True)  # SQLite: take the write lock now (BEGIN IMMEDIATE)
    try:
        transaction = connection.begin()
    except BaseException:
        connection.close()
        raise
    finally:
        immediate_begin.reset(token)
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=True)
    registry = db.session.registry
    registry.set(session)
    try:
        yield session
    finally:
        registry.set(outer_session)
        session.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()
