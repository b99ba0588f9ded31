"""Rebuild the dashboard's aggregates from the history: the 0009 migration's backfill and `flask stats rebuild`."""

from collections.abc import Callable

from sqlalchemy import delete, select, update

from app.models import (
    BusinessCalendar,
    DailyStat,
    DurationStat,
    ElementStat,
    HistoryEvent,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    Ticket,
    TicketStat,
)
from app.sla import Calendar
from app.sla import calendar_for as sla_calendar_for
from app.sla.store import DEFAULT_CALENDAR
from app.stats.record import ELEMENT_KINDS, Lookups, record


def calendar_loader(session) -> Callable:
    """`calendar_for` reading through `session` (the migration's connection), cached per team."""
    cache: dict = {}

    def calendar_for(team_key: str | None):
        if team_key not in cache:
            row = (
                session.execute(
                    select(BusinessCalendar).where(BusinessCalendar.team_key == team_key)
                ).scalar()
                if team_key
                else None
            )
            cache[team_key] = (
                Calendar(row.hours, row.timezone, {h.day: h.name for h in row.holidays})
                if row is not None
                else DEFAULT_CALENDAR
            )
        return cache[team_key]

    return calendar_for


AGGREGATES = (DailyStat, DurationStat, ElementStat, TicketStat)


# session.info while a replay runs: app.engine.runtime.ticket_copies leaves the task rows alone
# (the 0009 migration replays into a schema without their copies; `rebuild` copies them once after).
REPLAYING = "stats_replaying_history"


def rebuild(
    session, calendar_for: Callable = sla_calendar_for, chunk: int = 5000, task_copies: bool = True
) -> int:
    """Empty the aggregate tables and replay every history row into them (the caller commits).

    Reads the history in id order, `chunk` rows at a time, with the tickets, their stat rows and
    the instances' processes of each chunk fetched in three queries. Then, with `task_copies`, the
    open tasks take their tickets' first responses again, in one statement (their copy,
    `human_task.first_responded_at`). Returns the rows replayed.
    """
    session.info[REPLAYING] = True
    try:
        replayed = _replay(session, calendar_for, chunk)
    finally:
        session.info.pop(REPLAYING, None)
    if task_copies:
        tasks, stats = HumanTask.__table__, TicketStat.__table__
        responded = select(stats.c.first_response_at).where(stats.c.ticket_id == tasks.c.ticket_id)
        session.execute(
            update(tasks)
            .where(tasks.c.ticket_id.is_not(None))
            .values(first_responded_at=responded.scalar_subquery())
        )
    return replayed


def _replay(session, calendar_for: Callable, chunk: int) -> int:
    for model in AGGREGATES:
        session.execute(delete(model))
    calendars: dict = {}
    last, replayed = 0, 0
    columns = [HistoryEvent.__table__.c[name] for name in ("id", *_ROW_FIELDS)]
    while True:
        batch = session.execute(
            select(*columns).where(HistoryEvent.id > last).order_by(HistoryEvent.id).limit(chunk)
        ).all()
        if not batch:
            return replayed
        last = batch[-1].id
        rows = [dict(zip(_ROW_FIELDS, r[1:], strict=True)) for r in batch]
        lookups = Lookups(session, calendar_for, calendars=calendars)
        _prefetch(session, rows, lookups)
        record(session, rows, lookups)
        session.flush()
        session.expunge_all()  # the next chunk fetches what it needs again
        replayed += len(rows)


# What `record` reads of a ticket; named columns, so the replay works whatever columns later
# migrations add to the ticket table (the 0009 migration backfills through it).
_TICKET_COLUMNS = (
    Ticket.id,
    Ticket.type,
    Ticket.sla_team_key,
    Ticket.created_at,
    Ticket.sla_met,
    Ticket.first_response_due_at,
)
_ROW_FIELDS = ("kind", "ticket_id", "instance_id", "actor", "element_id", "task_id", "at", "data", "seconds")


def _prefetch(session, rows: list[dict], lookups: Lookups) -> None:
    ticket_ids = {r["ticket_id"] for r in rows if r["ticket_id"]}
    instance_ids = {r["instance_id"] for r in rows if r["instance_id"] and r["kind"] in ELEMENT_KINDS}
    if ticket_ids:
        found = session.execute(select(*_TICKET_COLUMNS).where(Ticket.id.in_(ticket_ids))).all()
        lookups.tickets.update({t.id: t for t in found})
        lookups.tickets.update({i: None for i in ticket_ids if i not in lookups.tickets})
        found = session.execute(select(TicketStat).where(TicketStat.ticket_id.in_(ticket_ids))).scalars()
        lookups.stats.update({s.ticket_id: s for s in found})
        lookups.stats.update({i: None for i in ticket_ids if i not in lookups.stats})
    if instance_ids:
        found = session.execute(
            select(ProcessInstance.id, ProcessDefinition.key, ProcessDefinition.version)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessInstance.id.in_(instance_ids))
        ).all()
        lookups.processes.update({i: (k, v) for i, k, v in found})
