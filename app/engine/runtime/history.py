"""The history of a command: rows appended while it runs, written in one INSERT just before its commit.

The same rows update the pre-aggregated dashboard figures (`app.stats.record`) in that transaction,
and become the command's webhook deliveries (`app.webhooks.enqueue_events`), sent after the commit.

`run_command` opens the buffer (`begin`) and writes it (`write`); engine code appends with
`history(...)`. A history row belongs to its command: nothing is written if the command fails.
"""

from app.clock import utcnow
from app.engine.runtime.instance_writes import keep_held
from app.engine.runtime.rows import insert_at_commit, keep_changed, keep_new
from app.engine.runtime.ticket_copies import pushed_now
from app.extensions import db
from app.models import HistoryEvent, HumanTask, TicketAgent, TicketStat, Timer
from app.stats.record import collect
from app.stats.record import flush as flush_counters
from app.stats.upsert import keep_counts
from app.webhooks import enqueue_events

_HISTORY = "ticketflow_history"  # session.info key: the command's pending history rows
# A stat's columns that commands only add to: written as increments on PostgreSQL (`keep_changed`)
STAT_COUNTERS = ("touches", "handoffs", "reopens")


def in_command(session) -> bool:
    """True while a command runs in this session (a nested command joins its transaction)."""
    return _HISTORY in session.info


def begin(session) -> None:
    """Open the history buffer of a command."""
    session.info[_HISTORY] = []


def end(session) -> None:
    """Close the history buffer, written or not."""
    session.info.pop(_HISTORY, None)


def write(session) -> None:
    """All history rows of the command in one multi-row INSERT, just before the commit; on
    PostgreSQL it is sent at the commit, as the first part of the counters' one statement.

    The dashboard's aggregates (app/stats/record.py) are brought up to date from the same rows,
    in the same transaction, and the webhook deliveries of their events written. The counters
    that many tickets share (a day's figures per type and team, an element's) are written last,
    after the command's own rows are flushed: on PostgreSQL their row locks are then held for the
    few statements before the commit, not for the whole write (`ticket_count`'s come after them,
    at the commit, app/stats/counts.py). On PostgreSQL they are all sent at the commit, in one
    statement (app/stats/upsert.py, `batched`).
    """
    rows = session.info.get(_HISTORY)
    if not rows:
        keep_held(session)
    else:
        shared = collect(session, rows)  # and each ticket's own ticket_stat, on the session
        keep_counts(session)  # PostgreSQL: with the list counts, in one statement at the commit
        if session.get_bind().dialect.name == "postgresql":  # and the last rows in that statement
            with pushed_now(session):  # the tickets' copies to their tasks first, the new ones too
                stats = [row for row in session.dirty if isinstance(row, TicketStat)]
                keep_changed(session, stats, counters=STAT_COUNTERS)
                keep_new(session, _last_rows(session))
                keep_held(session)  # a new instance too, unless the flush writes a row pointing at it
                session.flush()
        else:
            session.flush()
            keep_held(session)  # (SQLite: written now, before the history that points at it)
        insert_at_commit(session, HistoryEvent.__table__, rows)
        enqueue_events(session, rows)  # the deliveries of the command's events, with its commit
        flush_counters(session, shared)
        rows.clear()


def _last_rows(session) -> list:
    """New rows that nothing reads again once the history is written: the tasks and timers that
    opened, a new ticket's stat (`collect`), who got a team's first task of a ticket (assignment)."""
    return [row for row in session.new if isinstance(row, HumanTask | Timer | TicketAgent | TicketStat)]


def pending() -> list[dict]:
    """The rows the current command has appended so far (oldest first); empty outside a command."""
    return db.session.info.get(_HISTORY) or []


def history(
    kind: str,
    *,
    ticket_id=None,
    instance_id=None,
    actor=None,
    element_id=None,
    element_name=None,
    task_id=None,
    data=None,
    at=None,
    seconds=None,
) -> None:
    """Append one history row to the current command (written in one INSERT at its commit)."""
    rows = db.session.info.get(_HISTORY)
    if rows is None:
        raise RuntimeError("history() is only for use inside run_command")
    rows.append(
        {
            "kind": kind,
            "ticket_id": ticket_id,
            "instance_id": instance_id,
            "actor": actor,
            "element_id": element_id,
            "element_name": element_name,
            "task_id": task_id,
            "data": data,
            "at": at or utcnow(),
            "seconds": seconds,
        }
    )
