"""`ticket_count`: tickets per type, SLA team, priority, status and SLA miss, kept in the transaction
that creates or changes a ticket, so the ticket list's counts per status and /metrics read a few
hundred rows instead of counting a million tickets.

How: a `before_flush` listener notes, for every Ticket added, changed or deleted, the key it leaves
(-1) and the key it takes (+1) (the values at the previous flush come from the attributes'
history); `before_commit` flushes what is pending and writes the summed increments, sorted by key
(so two transactions lock the rows in the same order), as one `INSERT ... ON CONFLICT DO UPDATE
SET n = n + excluded.n`. A rollback forgets them. Rows written without the ORM (a bulk import, a
migration) are counted by `rebuild_counts` (the migration runs it, and `flask stats rebuild`).
"""

from collections import Counter

from sqlalchemy import event, false, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import Ticket, TicketCount

PENDING = "ticketflow_ticket_count"  # session.info: key -> increment not written yet
KEY = ("type", "team", "priority", "status", "missed")
_COLUMNS = {"type": "type", "team": "sla_team_key", "priority": "priority", "status": "status"}


ATTRIBUTES = ("type", "sla_team_key", "priority", "status", "sla_met")


def _keep_old_value(_target, value, _old, _initiator):
    return value


for _attribute in ATTRIBUTES:  # load the old value when one is set, so the history holds it
    event.listen(getattr(Ticket, _attribute), "set", _keep_old_value, active_history=True, retval=True)


def _value(ticket: Ticket, attribute: str):
    """The attribute's value, or its column's default for a new ticket that leaves it unset."""
    value = getattr(ticket, attribute)
    if value is None and inspect(ticket).pending:
        default = Ticket.__table__.c[attribute].default
        if default is not None and default.is_scalar:
            value = default.arg
    return value


def _now(ticket: Ticket) -> tuple:
    type_, team, priority, status, met = (_value(ticket, a) for a in ATTRIBUTES)
    return (type_ or "", team or "", priority or "", status or "", met is False)


def _before(ticket: Ticket) -> tuple:
    """The key as the database holds it (the values at the previous flush)."""
    state = inspect(ticket)
    values = []
    for attribute in ATTRIBUTES:
        history = state.attrs[attribute].history
        if history.deleted:
            values.append(history.deleted[0])
        elif history.unchanged:
            values.append(history.unchanged[0])
        else:  # never loaded and not set: unchanged, as the object holds it
            values.append(getattr(ticket, attribute))
    type_, team, priority, status, met = values
    return (type_ or "", team or "", priority or "", status or "", met is False)


@event.listens_for(Session, "before_flush")
def _note(session, _context, _instances) -> None:
    pending = None
    for ticket in session.new:
        if isinstance(ticket, Ticket):
            pending = pending if pending is not None else session.info.setdefault(PENDING, Counter())
            pending[_now(ticket)] += 1
    for ticket in session.dirty:
        if isinstance(ticket, Ticket) and session.is_modified(ticket):
            old, new = _before(ticket), _now(ticket)
            if old != new:
                pending = pending if pending is not None else session.info.setdefault(PENDING, Counter())
                pending[old] -= 1
                pending[new] += 1
    for ticket in session.deleted:
        if isinstance(ticket, Ticket):
            pending = pending if pending is not None else session.info.setdefault(PENDING, Counter())
            pending[_before(ticket)] -= 1


@event.listens_for(Session, "before_commit")
def _write(session) -> None:
    if not session.info.get(PENDING):
        return
    session.flush()  # the last changes' increments
    pending = session.info.pop(PENDING, None)
    rows = [dict(zip(KEY, key, strict=True), n=n) for key, n in sorted(pending.items()) if n]
    if rows:
        _upsert(session, rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session, _previous) -> None:
    session.info.pop(PENDING, None)


def _upsert(session, rows: list[dict]) -> None:
    table = TicketCount.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY), set_={"n": table.c.n + stmt.excluded.n})
    session.connection().execute(stmt, rows)


def rebuild_counts(session) -> int:
    """Count every ticket again into an emptied `ticket_count` (one GROUP BY); returns the rows."""
    session.execute(TicketCount.__table__.delete())
    missed = func.coalesce(Ticket.sla_met == false(), False)
    keys = [func.coalesce(getattr(Ticket, _COLUMNS[k]), "") for k in KEY[:4]]
    rows = [
        dict(zip(KEY, (*values, bool(is_missed)), strict=True), n=n)
        for *values, is_missed, n in session.execute(
            select(*keys, missed, func.count()).group_by(*keys, missed)
        ).all()
    ]
    if rows:
        session.execute(TicketCount.__table__.insert(), rows)
    return len(rows)
