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
command's first read (`instance_id_column`), and `write_first` holds the row back until a flush
writes a row that points at it (a task, a timer, a job...), or until the end of the start
(`write_held`) when a command goes on after it. That flush inserts it before anything else (the
ORM orders a flush's INSERTs only by relationships, and the rows that point at an instance have
none). In a start such a flush comes after the engine has run and the workflow is serialized
(`store.save`), so no UPDATE follows. When none comes, the history's write (`keep_held`) sends the
INSERT in the commit's one statement on PostgreSQL, with the rows kept for it that point at the
instance, whose foreign keys PostgreSQL checks at the statement's end.
"""

from sqlalchemy import bindparam, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.engine.runtime.rows import insert_at_commit
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
    held = session.info.get(_NEW)
    if not held:
        return
    if session.get_bind().dialect.name != "postgresql":
        write_held(session)  # (SQLite: the history's rows are inserted at its write, not kept)
        return
    if _pointed_at(session, held):
        write_held(session)


def _pointed_at(session, held: list[ProcessInstance]) -> bool:
    """Whether a row the next flush writes points at one of the held instances."""
    ids = {row.id for row in held}
    return any(getattr(row, "instance_id", None) in ids for row in (*session.new, *session.dirty))


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_NEW, None)  # rolled back before any flush wrote them


def write_held(session) -> None:
    """Insert the held-back instances with their values now, and make them persistent rows of the
    session (so a later change is an UPDATE, version-checked as any other). `start_process` calls
    it when it has saved and a command goes on after it, which may read the instance."""
    rows = session.info.pop(_NEW, None)
    if rows:
        session.connection().execute(insert(ProcessInstance.__table__), _values(rows))
        _persistent(session, rows)


def keep_held(session) -> None:
    """At the history's write: the held-back instances' INSERT in the commit's one statement on
    PostgreSQL (`insert_at_commit`; elsewhere it runs now), or now (`write_held`) when a row that
    the next flush writes points at one of them."""
    if _pointed_at(session, session.info.get(_NEW, ())):
        write_held(session)
        return
    rows = session.info.pop(_NEW, None)
    if rows:
        insert_at_commit(session, ProcessInstance.__table__, _values(rows))
        _persistent(session, rows)


def _values(rows: list[ProcessInstance]) -> list[dict]:
    return [{c.key: getattr(row, c.key) for c in ProcessInstance.__table__.columns} for row in rows]


def _persistent(session, rows: list[ProcessInstance]) -> None:
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
