"""The ticket's columns that its open tasks carry: priority (with its rank) and SLA due time.

`human_task` keeps copies of them so the inbox sorts and filters a view by them from an index of
that one table (app/web/inbox/queries.py) instead of joining and sorting every task of the view.
A task takes them when it opens (`copies`); a `before_flush` listener pushes a change of the
ticket's priority or SLA due time (an escalation raising the priority, a pause clearing the due
time, a resume setting it) to its open tasks in the same transaction, with one UPDATE per changed
ticket, to the task rows of this flush that are not written yet, and to those the session holds.
"""

from sqlalchemy import event, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.models import HumanTask, Ticket
from app.models.changes import changed_since_flush
from app.models.ticket import priority_rank

COPIED = ("priority", "sla_due_at")


def copies(ticket: Ticket | None) -> dict:
    """The values a task of `ticket` takes (a task without a ticket: normal priority, no SLA)."""
    if ticket is None:
        return {"priority": "normal", "priority_rank": priority_rank("normal"), "sla_due_at": None}
    priority = ticket.priority or "normal"
    return {"priority": priority, "priority_rank": priority_rank(priority), "sla_due_at": ticket.sla_due_at}


@event.listens_for(Session, "before_flush")
def _push(session, _context, _instances) -> None:
    changed = {
        t.id: t
        for t in session.dirty
        if isinstance(t, Ticket) and t.id is not None and changed_since_flush(t, COPIED)
    }
    if not changed:
        return
    table = HumanTask.__table__
    for ticket_id, ticket in changed.items():
        session.connection().execute(
            update(table).where(table.c.ticket_id == ticket_id).values(copies(ticket))
        )
    for task in session.new:
        if isinstance(task, HumanTask) and task.ticket_id in changed:
            for name, value in copies(changed[task.ticket_id]).items():
                setattr(task, name, value)
    for task in list(session.identity_map.values()):  # rows this session read: as the UPDATE left them
        if isinstance(task, HumanTask) and task.ticket_id in changed:
            for name, value in copies(changed[task.ticket_id]).items():
                set_committed_value(task, name, value)
