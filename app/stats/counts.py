"""`ticket_count`: tickets per type, SLA team, priority, status, SLA miss and definition, kept in the transaction
that creates or changes a ticket, so the ticket list's counts per status and /metrics read a few
hundred rows instead of counting a million tickets.

How: a `before_flush` listener notes, for every Ticket added, changed (in one of the key's columns)
or deleted, the key it leaves (-1: the values of the previous flush, read from the database by
primary key unless this transaction wrote them itself, `after_flush` keeps those) and the key it
takes (+1); `before_commit` flushes what is pending and writes the summed increments, sorted by key
(so two transactions lock the rows in the same order), as one `INSERT ... ON CONFLICT DO UPDATE
SET n = n + excluded.n`. A rollback forgets them. Rows written without the ORM (a bulk import, a
migration) are counted by `rebuild_counts` (the migration runs it, and `flask stats rebuild`).
"""

from collections import Counter

from sqlalchemy import event, false, func, inspect, select
from sqlalchemy.orm import Session

from app.models import Ticket, TicketCount
from app.models.changes import changed_since_flush
from app.stats.list_counts import (
    forget_list_counts,
    note_leaving,
    note_new,
    rebuild_list_counts,
    write_list_counts,
)
from app.stats.upsert import add_counts, batched

PENDING = "ticketflow_ticket_count"  # session.info: key -> increment not written yet
WRITTEN = "ticketflow_ticket_keys"  # session.info: ticket id -> key this transaction flushed
KEY = ("type", "team", "priority", "status", "missed", "definition_id")
_COLUMNS = {"type": "type", "team": "sla_team_key", "priority": "priority", "status": "status"}


ATTRIBUTES = ("type", "sla_team_key", "priority", "status", "sla_met", "definition_id")
_KEY_NAMES = frozenset(ATTRIBUTES)


def _value(ticket: Ticket, attribute: str):
    """The attribute's value, or its column's default for a new ticket that leaves it unset."""
    value = getattr(ticket, attribute)
    if value is None and inspect(ticket).pending:
        default = Ticket.__table__.c[attribute].default
        if default is not None and default.is_scalar:
            value = default.arg
    return value


def _key(type_, team, priority, status, met, definition_id) -> tuple:
    return (type_ or "", team or "", priority or "", status or "", met is False, definition_id or 0)


@event.listens_for(Session, "before_flush")
def _note(session, _context, _instances) -> None:
    changes = Counter()
    for ticket in session.new:
        if isinstance(ticket, Ticket):
            changes[_key(*(_value(ticket, a) for a in ATTRIBUTES))] += 1
            note_new(session, ticket)
    changed = {
        t.id: t
        for t in session.dirty
        if isinstance(t, Ticket) and t.id is not None and changed_since_flush(t, ATTRIBUTES)
    }
    gone = [t.id for t in session.deleted if isinstance(t, Ticket) and t.id is not None]
    if changed or gone:
        # The keys the tickets leave, as the database holds them (the previous flush's values):
        # known when this transaction wrote them, else read by primary key.
        written = session.info.get(WRITTEN, {})
        old_keys = {i: written[i] for i in (*changed, *gone) if i in written}
        unknown = [i for i in (*changed, *gone) if i not in old_keys]
        if unknown:
            columns = [Ticket.__table__.c[a] for a in ATTRIBUTES]
            for ticket_id, *old in session.connection().execute(
                select(Ticket.__table__.c.id, *columns).where(Ticket.__table__.c.id.in_(unknown))
            ):
                old_keys[ticket_id] = _key(*old)
        for ticket_id, old in old_keys.items():
            changes[old] -= 1
            note_leaving(session, changed.get(ticket_id), ticket_id, old[0], old[3])  # type, status
            if ticket_id in changed:
                changes[_key(*(getattr(changed[ticket_id], a) for a in ATTRIBUTES))] += 1
    if any(changes.values()):
        pending = session.info.setdefault(PENDING, Counter())
        for key, n in changes.items():
            pending[key] += n


@event.listens_for(Session, "after_flush")
def _remember(session, _context) -> None:
    """The keys this flush wrote: the next change of the same ticket in this transaction needs no read."""
    written = None
    for ticket in (*session.new, *session.dirty):
        if isinstance(ticket, Ticket) and ticket.id is not None and not _KEY_NAMES & inspect(ticket).unloaded:
            if written is None:
                written = session.info.setdefault(WRITTEN, {})
            written[ticket.id] = _key(*(_value(ticket, a) for a in ATTRIBUTES))
    for ticket in session.deleted:
        if isinstance(ticket, Ticket):
            session.info.get(WRITTEN, {}).pop(ticket.id, None)


@event.listens_for(Session, "before_commit")
def _write(session) -> None:
    session.flush()  # the last changes' increments (commit would flush them right after)
    with batched(session):  # PostgreSQL: these and the ones the command kept, in one statement
        pending = session.info.pop(PENDING, None) or {}
        rows = [dict(zip(KEY, key, strict=True), n=n) for key, n in sorted(pending.items()) if n]
        add_counts(session, TicketCount.__table__, KEY, ("n",), rows)
        write_list_counts(session)  # after ticket_count: every command locks the two in the same order


@event.listens_for(Session, "after_soft_rollback")
def _forget(session, _previous) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(WRITTEN, None)
    forget_list_counts(session)


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction) -> None:
    if transaction.parent is None:  # committed, rolled back or closed: others may change the tickets now
        session.info.pop(WRITTEN, None)


def rebuild_counts(session) -> int:
    """Count every ticket again into an emptied `ticket_count` (one GROUP BY); returns the rows."""
    session.execute(TicketCount.__table__.delete())
    missed = func.coalesce(Ticket.sla_met == false(), False)
    keys = [func.coalesce(getattr(Ticket, _COLUMNS[k]), "") for k in KEY[:4]]
    definition = func.coalesce(Ticket.definition_id, 0)
    rows = [
        dict(zip(KEY, (*values, bool(is_missed), definition_id), strict=True), n=n)
        for *values, is_missed, definition_id, n in session.execute(
            select(*keys, missed, definition, func.count()).group_by(*keys, missed, definition)
        ).all()
    ]
    if rows:
        session.execute(TicketCount.__table__.insert(), rows)
    rebuild_list_counts(session)  # ticket_field_count, ticket_day_count: the same tickets
    return len(rows)
