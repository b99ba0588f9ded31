"""The ticket list: one page of tickets in a caller's scope, the counts per status, the CSV rows.

A page is three statements whatever the filters: the counts per status (one GROUP BY, whose sum
is the total), the page's tickets with their customer and the state flags (correlated EXISTS
on the page's rows only), and the page's open tasks (team and assignee name).
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, tuple_

from app.extensions import db
from app.models import Customer, HumanTask, ProcessDefinition, Ticket, TicketCount, User
from app.ticket_list.conditions import (
    filter_conditions,
    has_incident,
    has_task,
    sla_state_of,
    state_of,
    waits_message,
    waits_timer,
)
from app.ticket_list.counts import aggregated_counts
from app.ticket_list.filters import TicketFilters

PAGE_SIZE = 50
CSV_BATCH = 1000
# Sorts on a column that is never NULL: the CSV export reads them batch after batch by keyset
# (the rows after the last one written); the others use OFFSET, which walks the skipped rows again.
KEYSET_SORTS = {"id": "id", "created": "created_at"}
# Most urgent first when sorting by priority descending (Ticket.priority_rank, ix_ticket_priority_rank).
SORT_COLUMNS = {
    "id": Ticket.id,
    "subject": Ticket.subject,
    "type": Ticket.type,
    "status": Ticket.status,
    "priority": Ticket.priority_rank,
    "sla": Ticket.sla_due_at,
    "team": Ticket.sla_team_key,
    "customer": Customer.name,
    "created": Ticket.created_at,
    "updated": Ticket.updated_at,
    "closed": Ticket.closed_at,
}


@dataclass
class TicketRow:
    """A ticket as the list shows it."""

    ticket: Ticket
    customer_name: str
    customer_email: str
    version: int | None
    state: str
    sla: str | None
    teams: list[str]
    assignees: list[str]


def _order(filters: TicketFilters) -> list:
    column = SORT_COLUMNS[filters.sort_key]
    if filters.descending:
        return [column.desc(), Ticket.id.desc()]
    return [column.asc(), Ticket.id.asc()]


def _base(scope_condition, filters: TicketFilters, now: datetime, columns, *, common: bool = False):
    query = (
        db.select(*columns)
        .select_from(Ticket)
        .where(scope_condition, *filter_conditions(filters, now, common=common))
    )
    if filters.sort_key == "customer":
        query = query.join(Customer, Customer.id == Ticket.customer_id)
    return query


def status_counts(scope_condition, filters: TicketFilters, now: datetime) -> dict[str, int]:
    """How many tickets of the filtered list have each status: from the pre-aggregated
    `ticket_count` where it answers (app/ticket_list/counts.py), else one GROUP BY.

    Grouped by an expression of the status, not the column: otherwise SQLite may walk the whole
    status index to skip the grouping sort, rather than read the filter's own index.
    """
    aggregated = aggregated_counts(scope_condition, filters, now)
    if aggregated is not None:
        return aggregated
    status = func.coalesce(Ticket.status, "")
    query = (
        db.select(status, func.count())
        .where(scope_condition, *filter_conditions(filters, now))
        .group_by(status)
    )
    return dict(sorted(db.session.execute(query).all()))


def _rows_with(query, now: datetime) -> list[TicketRow]:
    """Tickets of `query` (which selects Ticket.id in order) with everything the list shows."""
    page = query.subquery()
    version = (
        db.select(ProcessDefinition.version)
        .where(ProcessDefinition.id == Ticket.definition_id)
        .correlate(Ticket)
        .scalar_subquery()
    )
    rows = db.session.execute(
        db.select(
            Ticket,
            Customer.name,
            Customer.email,
            version,
            has_task(),
            has_incident(),
            waits_message(),
            waits_timer(),
        )
        .join(page, page.c.id == Ticket.id)
        .join(Customer, Customer.id == Ticket.customer_id)
    ).all()
    found = {
        ticket.id: TicketRow(
            ticket,
            name,
            email,
            number,
            state_of(ticket.status, task, incident, message, timer),
            sla_state_of(ticket, now),
            [],
            [],
        )
        for ticket, name, email, number, task, incident, message, timer in rows
    }
    if found:
        tasks = db.session.execute(
            db.select(HumanTask.ticket_id, HumanTask.team, User.name)
            .outerjoin(User, User.id == HumanTask.assignee_id)
            .where(HumanTask.ticket_id.in_(found))
            .order_by(HumanTask.created_at, HumanTask.id)
        ).all()
        for ticket_id, team, assignee in tasks:
            row = found[ticket_id]
            if team and team not in row.teams:
                row.teams.append(team)
            if assignee and assignee not in row.assignees:
                row.assignees.append(assignee)
    return list(found.values())


def _common(filters: TicketFilters, matches: int | None) -> bool:
    """Whether a page with start-field or customer-prefix filters finds its rows sooner by walking
    the list's order and testing each ticket (about 50 * tickets / matches rows read) than by
    looking up every match and sorting them (`matches` rows): past sqrt(50 * tickets) matches."""
    if not (filters.fields or filters.order_number or filters.customer) or not matches:
        return False
    tickets = db.session.execute(db.select(func.coalesce(func.sum(TicketCount.n), 0))).scalar()
    return matches * matches > PAGE_SIZE * int(tickets)


def list_page(
    scope_condition,
    filters: TicketFilters,
    now: datetime,
    *,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    after: TicketRow | None = None,
    matches: int | None = None,
) -> list[TicketRow]:
    """One page of the filtered list in the filters' order; `after` (a row of the previous page,
    sorts on KEYSET_SORTS only): the rows that follow it, read from the index where it stopped.

    `matches` (the list's total, when the caller counted it): start-field and customer-prefix
    filters matching many tickets are tested row by row in the list's order (`_common`)."""
    query = _base(scope_condition, filters, now, [Ticket.id], common=_common(filters, matches))
    if after is not None:
        column = SORT_COLUMNS[filters.sort_key]
        value = getattr(after.ticket, KEYSET_SORTS[filters.sort_key])
        last = tuple_(literal(value, column.type), literal(after.ticket.id, Ticket.id.type))
        key = tuple_(column, Ticket.id)
        query = query.where(key < last if filters.descending else key > last)
    ids = list(db.session.execute(query.order_by(*_order(filters)).limit(limit).offset(offset)).scalars())
    if not ids:
        return []
    rows = {row.ticket.id: row for row in _rows_with(db.select(Ticket.id).where(Ticket.id.in_(ids)), now)}
    return [rows[i] for i in ids if i in rows]


CSV_HEADER = (
    "id",
    "type",
    "version",
    "subject",
    "status",
    "state",
    "priority",
    "sla",
    "sla_due_at",
    "team",
    "assignees",
    "customer",
    "customer_email",
    "created_at",
    "closed_at",
)


def csv_cell(value) -> str:
    """A value as a CSV cell that no spreadsheet runs as a formula (= + - @ get a leading ')."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(scope_condition, filters: TicketFilters, now: datetime) -> Iterator[str]:
    """The whole filtered list as CSV text, CSV_BATCH rows (one page query) at a time."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    offset, last = 0, None
    keyset = filters.sort_key in KEYSET_SORTS
    while True:
        if keyset:  # each batch starts where the previous one ended: no OFFSET to walk again
            rows = list_page(scope_condition, filters, now, limit=CSV_BATCH, after=last)
        else:
            rows = list_page(scope_condition, filters, now, limit=CSV_BATCH, offset=offset)
        for row in rows:
            t = row.ticket
            writer.writerow(
                csv_cell(v)
                for v in (
                    t.id,
                    t.type,
                    row.version,
                    t.subject,
                    t.status,
                    row.state,
                    t.priority,
                    row.sla,
                    t.sla_due_at,
                    " ".join(row.teams) or t.sla_team_key,
                    ", ".join(row.assignees),
                    row.customer_name,
                    row.customer_email,
                    t.created_at,
                    t.closed_at,
                )
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        for row in rows:  # a long export keeps one batch of tickets in the session, not all of them
            db.session.expunge(row.ticket)
        if len(rows) < CSV_BATCH:
            return
        offset, last = offset + CSV_BATCH, rows[-1]
