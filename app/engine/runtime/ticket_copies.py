"""The ticket's columns that its open tasks carry, so the inbox sorts and filters from `human_task`.

A task copies its ticket's priority (with its rank), type, customer, status and SLA times (due, at
risk, first response due), and its stat's first response (`ticket_stat.first_response_at`; only for
a ticket with a first-response due time, the only case where the SLA state reads it). The inbox
sorts and filters a view by them from that one table (app/web/inbox/queries.py) instead of joining
every task of the view to its ticket and stat.

A task takes them when it opens (`copies`; the first response from the flush, `_fill_responded`). A
`before_flush` listener pushes a change of a copied column (an escalation raising the priority, a
status change, a pause clearing the due time, the first answer) to the ticket's open tasks in the
same transaction: one UPDATE per changed ticket for the rows already written, and the values set on
the rows of this flush and on those the session holds. A ticket inserted in this transaction whose
tasks are not written yet needs no UPDATE (the start's status change).
"""

from contextlib import contextmanager
from functools import cache

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.engine.runtime.rows import at_commit
from app.models import HumanTask, Ticket, TicketStat
from app.models.changes import changed_of, changed_since_flush
from app.models.ticket import priority_rank
from app.stats.rebuild import REPLAYING

# ticket column -> the task's copy of it (the priority's rank goes with the priority)
COPIED = {
    "priority": "priority",
    "type": "ticket_type",
    "customer_id": "customer_id",
    "status": "ticket_status",
    "sla_due_at": "sla_due_at",
    "sla_at_risk_at": "sla_at_risk_at",
    "first_response_due_at": "first_response_due_at",
}
# session.info keys: tickets inserted in this transaction, and the tickets of tasks written in it
_NEW_TICKETS, _WRITTEN_TASKS = "ticket_copies_new", "ticket_copies_written"
_PUSHED = "ticket_copies_pushed"  # session.info: `pushed_now` pushed them, the flush need not


def copies(ticket: Ticket | None) -> dict:
    """The values a task of `ticket` takes (a task without a ticket: normal priority, nothing else)."""
    if ticket is None:
        return {"priority": "normal", "priority_rank": priority_rank("normal")} | {
            column: None for name, column in COPIED.items() if name != "priority"
        }
    return _of(ticket, COPIED)


def _of(ticket: Ticket, names) -> dict:
    values = {COPIED[name]: getattr(ticket, name) for name in names}
    if "priority" in values:
        values["priority"] = values["priority"] or "normal"
        values["priority_rank"] = priority_rank(values["priority"])
    return values


@event.listens_for(Session, "before_flush")
def _push(session, _context, _instances) -> None:
    if REPLAYING in session.info or _PUSHED in session.info:  # (pushed: by `pushed_now`)
        return
    changed = _changes(session)
    _fill_responded(session)
    _copy(session, changed)


@contextmanager
def pushed_now(session):
    """Push the copies that the session's changes call for now, with the UPDATEs of task rows
    already written in the command's one statement at the commit on PostgreSQL (`at_commit`), and
    keep the flushes inside from pushing them again. `history.write` keeps its last rows (the new
    tasks among them) for that statement around its last flush: they take their values first."""
    changed = _changes(session)
    _fill_responded(session)
    _copy(session, changed, at_commit)
    session.info[_PUSHED] = True
    try:
        yield
    finally:
        session.info.pop(_PUSHED, None)


def _changes(session) -> dict[int, dict]:
    """ticket id -> the copied values that changed since the last flush (the ticket's, its stat's
    first response)."""
    changed: dict[int, dict] = {}
    for row in session.dirty:
        if isinstance(row, Ticket) and row.id is not None:
            names = changed_of(row, COPIED)
            if names:
                changed.setdefault(row.id, {}).update(_of(row, names))
        elif isinstance(row, TicketStat) and changed_since_flush(row, ("first_response_at",)):
            if _has_response_target(session, row.ticket_id):
                changed.setdefault(row.ticket_id, {})["first_responded_at"] = row.first_response_at
    for row in session.new:
        if isinstance(row, TicketStat) and row.first_response_at is not None and row.ticket_id is not None:
            if _has_response_target(session, row.ticket_id):
                changed.setdefault(row.ticket_id, {})["first_responded_at"] = row.first_response_at
    return changed


def _copy(session, changed: dict[int, dict], send=None) -> None:
    """Give the tickets' tasks their new values: one UPDATE per ticket for the rows written (by
    `send(session, statement, params)` when given), the values set on the rows the session holds."""
    if not changed:
        return
    fresh = session.info.get(_NEW_TICKETS, set()) - session.info.get(_WRITTEN_TASKS, set())
    for ticket_id, values in changed.items():
        if ticket_id not in fresh:  # (fresh: a ticket of this transaction, none of its tasks written yet)
            params = {"ticket_id_": ticket_id, **values}
            statement = _update(tuple(sorted(values)))
            if send is None:
                session.connection().execute(statement, params)
            else:
                send(session, statement, params)
    for task in session.new:
        if isinstance(task, HumanTask) and task.ticket_id in changed:
            for name, value in changed[task.ticket_id].items():
                setattr(task, name, value)
    for task in list(session.identity_map.values()):  # rows already written: as the UPDATE left them
        if isinstance(task, HumanTask) and task.ticket_id in changed and task.ticket_id not in fresh:
            for name, value in changed[task.ticket_id].items():
                set_committed_value(task, name, value)


@cache
def _update(columns: tuple[str, ...]):
    """The UPDATE of a ticket's task rows setting `columns`, built once for each set of them."""
    table = HumanTask.__table__
    return (
        update(table)
        .where(table.c.ticket_id == bindparam("ticket_id_"))
        .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
    )


def _has_response_target(session, ticket_id: int) -> bool:
    """Whether the ticket has a first-response due time (when the session does not hold it: maybe).
    The first response is copied only to the tasks of such tickets: no other SLA state reads it."""
    ticket = session.identity_map.get(session.identity_key(Ticket, ticket_id))
    return ticket is None or ticket.first_response_due_at is not None


def _fill_responded(session) -> None:
    """New task rows take their ticket's first response: from the stat the session holds (a command
    that records history has read or created it), else read, for tickets with a first-response
    target only (the only ones whose SLA state depends on it)."""
    waiting = [
        task
        for task in session.new
        if isinstance(task, HumanTask) and task.ticket_id is not None and task.first_responded_at is None
    ]
    if not waiting:
        return
    held = {stat.ticket_id: stat for stat in session.new if isinstance(stat, TicketStat)}
    unknown = set()
    for task in waiting:
        stat = held.get(task.ticket_id) or session.identity_map.get(
            session.identity_key(TicketStat, task.ticket_id)
        )
        if stat is not None:
            task.first_responded_at = stat.first_response_at
        elif task.first_response_due_at is not None:
            unknown.add(task.ticket_id)
    if not unknown:
        return
    stats = TicketStat.__table__
    found = dict(
        session.connection()
        .execute(select(stats.c.ticket_id, stats.c.first_response_at).where(stats.c.ticket_id.in_(unknown)))
        .all()
    )
    for task in waiting:
        if task.ticket_id in found:
            task.first_responded_at = found[task.ticket_id]


@event.listens_for(Session, "after_flush")
def _note_written(session, _context) -> None:
    if REPLAYING in session.info:
        return
    for row in session.new:
        if isinstance(row, Ticket):
            session.info.setdefault(_NEW_TICKETS, set()).add(row.id)
        elif isinstance(row, HumanTask) and row.ticket_id is not None:
            session.info.setdefault(_WRITTEN_TASKS, set()).add(row.ticket_id)


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_NEW_TICKETS, None)
        session.info.pop(_WRITTEN_TASKS, None)
