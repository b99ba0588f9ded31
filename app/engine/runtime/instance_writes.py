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
"""

from sqlalchemy import bindparam, event, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.models import ProcessInstance
from app.models.changes import changed_since_flush

WRITTEN = ("status", "workflow", "updated_at", "ended_at")
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
