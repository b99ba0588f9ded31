"""`ticket_field_count` and `ticket_day_count`: tickets per start field value, type and status, and
per UTC day of creation, type and status, kept in the transaction that creates a ticket or changes
its type or status, so the ticket list's counts per status of a business-field filter
(`field=name:value`, `order_number`) and of whole days of creation read a few rows instead of
every matching ticket (app/ticket_list/counts.py).

How: `app/stats/counts.py`'s `before_flush` listener (which already reads the key each changed
ticket leaves) calls `note_new` for each ticket added and `note_leaving` for each ticket whose
key changes: the first call per ticket in a transaction keeps the (type, status) it had when
the transaction began. Its `before_commit` listener calls `write_list_counts` after writing
`ticket_count`: one SELECT of those tickets' `ticket_field` rows (the start command wrote them
in this transaction), then -1 for each field and for the creation day under the type and status
the ticket started with and +1 under the ones it ends with, summed and written as one upsert per
table sorted by key. Tickets whose type and status end as they began write nothing. A rollback
forgets the notes. Rows written without the ORM (a bulk import, a migration) are counted by
`rebuild_list_counts`. Tickets are never deleted (a deleted one would leave its counts behind).
"""

from collections import Counter
from datetime import UTC

from sqlalchemy import func, select

from app.models import Ticket, TicketDayCount, TicketField, TicketFieldCount
from app.stats.upsert import add_counts

NEW = "ticketflow_list_counts_new"  # session.info: tickets added in this transaction
FIELDS = "ticketflow_list_counts_fields"  # ticket id -> [(name, value)] its start command recorded
STARTED = "ticketflow_list_counts_started"  # ticket id -> ((type, status) at the start, ticket)
FIELD_KEY = ("name", "value", "type", "status")
DAY_KEY = ("day", "type", "status")


def note_new(session, ticket: Ticket) -> None:
    session.info.setdefault(NEW, []).append(ticket)


def note_leaving(session, ticket: Ticket | None, ticket_id: int, type_, status) -> None:
    """A ticket (None: deleted) leaves (type_, status), as the database held them before this flush."""
    started = session.info.setdefault(STARTED, {})
    if ticket_id not in started:
        started[ticket_id] = ((type_ or "", status or ""), ticket)


def note_fields(session, ticket_id: int, pairs: list[tuple[str, str]]) -> None:
    """The start fields a new ticket's command wrote (`record_fields`): not read back at commit."""
    session.info.setdefault(FIELDS, {})[ticket_id] = pairs


def forget_list_counts(session) -> None:
    session.info.pop(NEW, None)
    session.info.pop(STARTED, None)
    session.info.pop(FIELDS, None)


def _moves(session) -> dict:
    """Ticket id -> (ticket, (type, status) it leaves or None, (type, status) it takes)."""
    new = {t.id: t for t in session.info.pop(NEW, None) or () if t.id is not None}
    started = session.info.pop(STARTED, None) or {}
    moves = {ticket_id: (t, None, (t.type or "", t.status or "")) for ticket_id, t in new.items()}
    for ticket_id, (before, ticket) in started.items():
        if ticket_id in new or ticket is None:
            continue
        after = (ticket.type or "", ticket.status or "")
        if after != before:
            moves[ticket_id] = (ticket, before, after)
    return moves


def write_list_counts(session) -> None:
    moves = _moves(session)
    if not moves:
        session.info.pop(FIELDS, None)
        return
    fields, days = Counter(), Counter()
    for ticket, before, after in moves.values():
        day = ticket.created_at.astimezone(UTC).date() if ticket.created_at is not None else None
        if day is not None:
            if before is not None:
                days[(day, *before)] -= 1
            days[(day, *after)] += 1
    noted = session.info.pop(FIELDS, None) or {}
    found = [(ticket_id, name, value) for ticket_id, pairs in noted.items() for name, value in pairs]
    unknown = [ticket_id for ticket_id in moves if ticket_id not in noted]
    if unknown:
        found += session.connection().execute(
            select(TicketField.ticket_id, TicketField.name, TicketField.value).where(
                TicketField.ticket_id.in_(unknown)
            )
        )
    for ticket_id, name, value in found:
        if ticket_id not in moves:
            continue
        _, before, after = moves[ticket_id]
        if before is not None:
            fields[(name, value, *before)] -= 1
        fields[(name, value, *after)] += 1
    _upsert(session, TicketFieldCount.__table__, FIELD_KEY, fields)
    _upsert(session, TicketDayCount.__table__, DAY_KEY, days)


def _upsert(session, table, key: tuple[str, ...], changes: Counter) -> None:
    rows = [dict(zip(key, k, strict=True), n=n) for k, n in sorted(changes.items()) if n]
    add_counts(session, table, key, ("n",), rows)


def rebuild_list_counts(session) -> None:
    """Count every ticket again into emptied `ticket_field_count` and `ticket_day_count` (one
    GROUP BY each)."""
    type_, status = func.coalesce(Ticket.type, ""), func.coalesce(Ticket.status, "")
    session.execute(TicketFieldCount.__table__.delete())
    keys = [TicketField.name, TicketField.value, type_, status]
    session.execute(
        TicketFieldCount.__table__.insert().from_select(
            [*FIELD_KEY, "n"],
            select(*keys, func.count()).join(Ticket, Ticket.id == TicketField.ticket_id).group_by(*keys),
        )
    )
    session.execute(TicketDayCount.__table__.delete())
    keys = [func.date(Ticket.created_at), type_, status]
    session.execute(
        TicketDayCount.__table__.insert().from_select(
            [*DAY_KEY, "n"],
            select(*keys, func.count()).where(Ticket.created_at.is_not(None)).group_by(*keys),
        )
    )
