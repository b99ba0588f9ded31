"""`ticket_field_count`: tickets per start field value, type and status, kept in the transaction
that creates a ticket or changes its type or status, so the ticket list's counts per status of a
business-field filter (`field=name:value`, `order_number`) read a few rows instead of looking up
the status of every ticket that has the value (app/ticket_list/counts.py).

How: `app/stats/counts.py`'s `before_flush` listener (which already reads the key each changed
ticket leaves) calls `note_new` for each ticket added and `note_leaving` for each ticket whose
key changes: the first call per ticket in a transaction keeps the (type, status) it had when
the transaction began. Its `before_commit` listener calls `write_field_counts` after writing
`ticket_count`: one SELECT of those tickets' `ticket_field` rows (the start command wrote them
in this transaction), then -1 for each field under the type and status it started with and +1
under the ones it ends with, summed and written as one upsert sorted by key. Tickets whose type
and status end as they began write nothing. A rollback forgets the notes. Rows written without
the ORM (a bulk import, a migration) are counted by `rebuild_field_counts`.
"""

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.models import Ticket, TicketField, TicketFieldCount

NEW = "ticketflow_field_count_new"  # session.info: tickets added in this transaction
STARTED = "ticketflow_field_count_started"  # ticket id -> ((type, status) at the start, ticket)
KEY = ("name", "value", "type", "status")


def note_new(session, ticket: Ticket) -> None:
    session.info.setdefault(NEW, []).append(ticket)


def note_leaving(session, ticket: Ticket | None, ticket_id: int, type_, status) -> None:
    """A ticket (None: deleted) leaves (type_, status), as the database held them before this flush."""
    started = session.info.setdefault(STARTED, {})
    if ticket_id not in started:
        started[ticket_id] = ((type_ or "", status or ""), ticket)


def forget_field_counts(session) -> None:
    session.info.pop(NEW, None)
    session.info.pop(STARTED, None)


def write_field_counts(session) -> None:
    new = {t.id: t for t in session.info.pop(NEW, None) or () if t.id is not None}
    started = session.info.pop(STARTED, None) or {}
    moves = {}  # ticket id -> (key it leaves or None, key it takes or None)
    for ticket_id, ticket in new.items():
        moves[ticket_id] = (None, (ticket.type or "", ticket.status or ""))
    for ticket_id, (before, ticket) in started.items():
        if ticket_id in new:
            continue
        after = None if ticket is None else (ticket.type or "", ticket.status or "")
        if after != before:
            moves[ticket_id] = (before, after)
    if not moves:
        return
    changes = Counter()
    for ticket_id, name, value in session.connection().execute(
        select(TicketField.ticket_id, TicketField.name, TicketField.value).where(
            TicketField.ticket_id.in_(list(moves))
        )
    ):
        before, after = moves[ticket_id]
        if before is not None:
            changes[(name, value, *before)] -= 1
        if after is not None:
            changes[(name, value, *after)] += 1
    rows = [dict(zip(KEY, key, strict=True), n=n) for key, n in sorted(changes.items()) if n]
    if rows:
        table = TicketFieldCount.__table__
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=list(KEY), set_={"n": table.c.n + stmt.excluded.n})
        session.connection().execute(stmt, rows)


def rebuild_field_counts(session) -> int:
    """Count every ticket's fields again into an emptied `ticket_field_count` (one GROUP BY)."""
    session.execute(TicketFieldCount.__table__.delete())
    keys = [
        TicketField.name,
        TicketField.value,
        func.coalesce(Ticket.type, ""),
        func.coalesce(Ticket.status, ""),
    ]
    found = session.execute(
        TicketFieldCount.__table__.insert().from_select(
            [*KEY, "n"],
            select(*keys, func.count()).join(Ticket, Ticket.id == TicketField.ticket_id).group_by(*keys),
        )
    )
    return found.rowcount
