"""Several instances saved in one flush go to the database in one versioned executemany.

The ORM writes a row with a version column (`process_instance.version`, the optimistic check
between commands) one UPDATE at a time, so that it can check each row's count. A command that
saves many instances at once (a batch of due timers, commands/timers.py) paid one round trip per
instance. This `before_flush` listener writes those rows itself: one `UPDATE ... WHERE id = ? AND
version = ?` executed for all of them, whose summed row count must be the number of rows, or the
flush raises `StaleDataError` as the ORM would (the command is retried, runtime/runner.py). The
rows are then marked as written, so the ORM's own flush passes over them.

Only what `save` changes is written this way (the workflow, status, update and end times); a row
with any other change, or with an attribute not loaded, is left to the ORM.

A new instance (`start_process`) is written once, with its workflow: its id comes with the
command's first read (`instance_id_column`), and `write_first` holds the row back until the next
flush (or the end of the start, `write_held`), which inserts it before anything else of that
flush (the ORM orders a flush's INSERTs only by relationships, and the rows that point at an
instance have none). In a start that flush comes after the engine has run and the workflow is
serialized (`store.save`), so no UPDATE follows.
"""

from sqlalchemy import bindparam, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.models import ProcessInstance
from app.models.changes import changed_since_flush

WRITTEN = ("status", "workflow", "updated_at", "ended_at")
_NEW = "ticketflow_new_instances"  # session.info key: new instances not written yet


def instance_id_column(dialect: str):
    """A column that gives a new instance its id in a query the command sends anyway: the
    sequence's next value on PostgreSQL (evaluated after the query's LIMIT, once); on SQLite one
    more than the largest id, as SQLite itself would choose (the command holds the write lock)."""
    if dialect == "postgresql":
        return func.nextval("process_instance_id_seq")
    table = ProcessInstance.__table__
    return select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()


def next_instance_id(session, read: int) -> int:
    """The id for a new instance: `read` (from `instance_id_column`), past any held back in this
    session (SQLite's largest id does not count them yet)."""
    held = [row.id for row in session.info.get(_NEW, ())]
    return max(read, max(held, default=0) + 1)


def write_first(session, row: ProcessInstance) -> None:
    """Hold a new instance (with its id) back until the session's next flush writes it first."""
    session.info.setdefault(_NEW, []).append(row)


@event.listens_for(Session, "before_flush")
def _insert_new(session, _context, _instances) -> None:
    write_held(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_NEW, None)  # rolled back before any flush wrote them


def write_held(session) -> None:
    """Insert the held-back instances with their values now, and make them persistent rows of the
    session (so a later change is an UPDATE, version-checked as any other). `start_process` calls
    it when it has saved, in case no flush did."""
    rows = session.info.pop(_NEW, None)
    if not rows:
        return
    table = ProcessInstance.__table__
    values = [{c.key: getattr(row, c.key) for c in table.columns} for row in rows]
    session.connection().execute(insert(table), values)
    for row in rows:
        make_transient_to_detached(row)
        session.add(row)


_LEFT_TO_THE_ORM = frozenset(a.key for a in ProcessInstance.__mapper__.column_attrs) - set(WRITTEN)


@event.listens_for(Session, "before_flush")
def _write_together(session, _context, _instances) -> None:
    rows = [row for row in session.dirty if isinstance(row, ProcessInstance) and _batchable(row)]
    if len(rows) < 2:  # one row: the ORM's own UPDATE costs the same
        return
    table = ProcessInstance.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.version == bindparam("old_version"))
        .values({name: bindparam(name) for name in (*WRITTEN, "version")})
    )
    params = [
        {"row_id": row.id, "old_version": row.version, "version": row.version + 1}
        | {name: getattr(row, name) for name in WRITTEN}
        for row in rows
    ]
    matched = session.connection().execute(statement, params).rowcount
    if matched != len(rows):
        raise StaleDataError(
            f"UPDATE statement on table 'process_instance' expected to update {len(rows)} row(s); "
            f"{matched} were matched."
        )
    for row, written in zip(rows, params, strict=True):
        for name in (*WRITTEN, "version"):
            set_committed_value(row, name, written[name])


def _batchable(row: ProcessInstance) -> bool:
    """A persistent row, fully loaded, changed in the columns `save` writes and in no other."""
    state = inspect(row)
    if not state.persistent or state.unloaded:
        return False
    return bool(state.committed_state) and not changed_since_flush(row, _LEFT_TO_THE_ORM)
