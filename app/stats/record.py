"""Keep the pre-aggregated figures up to date from history rows: in each command, and when rebuilding.

`record(session, rows)` is called by the engine just before a command's history rows are
inserted, in the same transaction: it reads at most the ticket's `ticket_stat` row (by primary
key), and writes one upsert (INSERT ... ON CONFLICT DO UPDATE, executemany) per aggregate table
it touches. `app/stats/rebuild.py` empties the tables and replays the whole history through the same
code, so the aggregates always equal a recomputation from history.

What each history row counts for (the definitions are in `app/stats/kpis.py` DEFINITIONS):

| row | counts |
| --- | --- |
| ticket_created | opened (day, type, team); a `ticket_stat` row |
| service_completed `ticket.set_status`, ticket_closed, ticket_reopened, customer_message_read (with a status) | a final status resolves (or cancels) the ticket, an open status after a final one reopens it |
| task_completed by a person, an agent's comment_added | a touch; the first one is the first response |
| task_reassigned | a hand-off |
| service_completed `escalation.notify_team` / `ticket.raise_priority` | the ticket's first escalation |
| feedback_recorded | a rating (CSAT) |
| task_completed on FOLLOW_UP_ELEMENT | a follow-up of a low rating |
| element_completed, task_completed, service_completed, timer_fired, message_delivered (with `seconds`), task_cancelled, incident_opened | per element of the process version |
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.models import (
    DailyStat,
    DurationStat,
    ElementStat,
    ProcessDefinition,
    ProcessInstance,
    Ticket,
    TicketStat,
)
from app.sla import STOPPING, business_seconds_between
from app.sla import calendar_for as sla_calendar_for
from app.stats.buckets import bucket_of
from app.stats.upsert import add_counts

SET_STATUS = "ticket.set_status"
ESCALATIONS = frozenset({"escalation.notify_team", "ticket.raise_priority"})
FOLLOW_UP_ELEMENT = "follow_up"  # the shipped processes' "Follow up on low rating" task
SYSTEM_ACTORS = frozenset({"worker", "escalation", "system", "scheduler"})
DAILY_COUNTERS = tuple(c.name for c in DailyStat.__table__.columns if c.name not in ("day", "type", "team"))
ELEMENT_COUNTERS = ("completed", "cancelled", "incidents", "duration_sum")
TICKET_KINDS = frozenset(
    {
        "ticket_created",
        "service_completed",
        "ticket_closed",
        "task_completed",
        "comment_added",
        "task_reassigned",
        "feedback_recorded",
        "ticket_reopened",
        "customer_message_read",
    }
)
# Rows that complete an element: the engine writes element_completed for those that complete on
# their own and the command's own row for the task it completed (a user task, a job, a timer, a message).
COMPLETIONS = frozenset(
    {"element_completed", "task_completed", "service_completed", "timer_fired", "message_delivered"}
)
ELEMENT_KINDS = COMPLETIONS | {"task_cancelled", "incident_opened"}


UNTIMED = -2  # element_stat bucket of completions without a duration; -1 holds cancellations, incidents
PROCESSES = "ticketflow_stats_processes"  # session.info: instance id -> (process key, version)


def remember_process(session, instance_id: int, key: str, version: int) -> None:
    """Tell `record` an instance's process (the engine knows it when it loads one): no lookup then."""
    session.info.setdefault(PROCESSES, {})[instance_id] = (key, version)


@dataclass
class Lookups:
    """Where `record` finds tickets, their stat rows, an instance's process and a team's calendar."""

    session: object
    calendar_for: Callable = sla_calendar_for
    tickets: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    processes: dict = field(default_factory=dict)  # instance id -> (process key, version)
    calendars: dict = field(default_factory=dict)

    def ticket(self, ticket_id: int) -> Ticket | None:
        if ticket_id not in self.tickets:
            self.tickets[ticket_id] = self.session.get(Ticket, ticket_id)
        return self.tickets[ticket_id]

    def stat(self, ticket_id: int) -> TicketStat | None:
        if ticket_id not in self.stats:
            # Without a flush first: the command's pending rows go in one flush with the stat's
            # changes (a row this call creates is in `stats` already).
            with self.session.no_autoflush:
                self.stats[ticket_id] = self.session.get(TicketStat, ticket_id)
        return self.stats[ticket_id]

    def read_stats(self, ticket_ids: set[int]) -> None:
        """Read the stat rows of several tickets in one query (a batch of timers touches many)."""
        missing = [i for i in ticket_ids if i not in self.stats]
        if len(missing) < 2:
            return  # one ticket: `stat` finds it in the session, or reads it
        with self.session.no_autoflush:
            found = self.session.execute(
                select(TicketStat).where(TicketStat.ticket_id.in_(missing))
            ).scalars()
            self.stats.update({stat.ticket_id: stat for stat in found})
        for ticket_id in missing:
            self.stats.setdefault(ticket_id, None)  # no row yet, as `stat` would find

    def process(self, instance_id: int) -> tuple[str, int] | None:
        known = self.session.info.get(PROCESSES)
        if known and instance_id in known:
            return known[instance_id]
        if instance_id not in self.processes:
            row = self.session.get(ProcessInstance, instance_id)
            definition = self.session.get(ProcessDefinition, row.definition_id) if row else None
            self.processes[instance_id] = (definition.key, definition.version) if definition else None
        return self.processes[instance_id]

    def calendar(self, team: str):
        if team not in self.calendars:
            self.calendars[team] = self.calendar_for(team or None)
        return self.calendars[team]


@dataclass
class Increments:
    daily: dict = field(default_factory=lambda: defaultdict(Counter))
    durations: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    elements: dict = field(default_factory=lambda: defaultdict(Counter))  # (..., day, bucket) -> counts


def record(session, rows: list[dict], lookups: Lookups | None = None) -> None:
    """Add what a command's history rows count to the aggregates (same transaction, no commit)."""
    flush(session, collect(session, rows, lookups))


def collect(session, rows: list[dict], lookups: Lookups | None = None) -> Increments:
    """What a command's history rows add: the shared counters' increments, returned to be written
    by `flush` (the engine writes them last, see app/engine/runtime/history.py), and the changes of
    each ticket's own `ticket_stat` row, made on the session's objects."""
    lookups = lookups or Lookups(session)
    inc = Increments()
    lookups.read_stats(
        {
            r["ticket_id"]
            for r in rows
            if r.get("ticket_id") and r["kind"] in TICKET_KINDS and r["kind"] != "ticket_created"
        }
    )
    for row in rows:
        apply(row, inc, lookups)
    return inc


def apply(row: dict, inc: Increments, lookups: Lookups) -> None:
    """What one history row adds (to `inc`, and to its ticket's `ticket_stat` row)."""
    kind = row["kind"]
    if kind in ELEMENT_KINDS and row.get("instance_id") and row.get("element_id"):
        _element(row, inc, lookups)
    if kind not in TICKET_KINDS or not row.get("ticket_id"):
        return
    at, data = row["at"], row.get("data") if isinstance(row.get("data"), dict) else {}
    if not _counts(kind, row, data):
        return  # e.g. a job that sent an e-mail: no need to read the ticket's stat row
    stat = _stat(row, lookups)
    if stat is None:
        return
    daily = inc.daily[(at.date(), stat.type, stat.team)]
    if kind == "ticket_created":
        daily["opened"] += 1
        return
    status = None
    if kind in ("ticket_closed", "ticket_reopened", "customer_message_read"):
        status = data.get("status")  # a customer's message reopened the ticket, reading it closed it again
    elif kind == "service_completed":
        operator = data.get("operator")
        result = data.get("result") if isinstance(data.get("result"), dict) else {}
        if operator == SET_STATUS:
            status = result.get("status")
        elif operator in ESCALATIONS and not stat.escalated:
            stat.escalated = True
            daily["escalated"] += 1
    elif kind == "task_reassigned":
        stat.handoffs += 1
        daily["handoffs"] += 1
    elif kind == "feedback_recorded":
        rating = data.get("rating")
        if isinstance(rating, int) and 1 <= rating <= 5:
            daily["feedback"] += 1
            daily["rating_sum"] += rating
            daily[f"rating_{rating}"] += 1
    elif _is_touch(kind, row, data):
        if kind == "task_completed" and row.get("element_id") == FOLLOW_UP_ELEMENT:
            daily["follow_ups"] += 1
        if stat.is_open:
            stat.touches += 1
            if stat.first_response_at is None:
                _first_response(stat, at, inc, lookups)
    if isinstance(status, str):
        if status in STOPPING and stat.is_open:
            _resolve(stat, status, at, inc, lookups)
        elif status not in STOPPING and not stat.is_open:
            _reopen(stat, at, inc, lookups)


def _counts(kind: str, row: dict, data: dict) -> bool:
    """Whether the row changes a ticket figure (cheap, before any lookup)."""
    if kind == "service_completed":
        return data.get("operator") == SET_STATUS or data.get("operator") in ESCALATIONS
    if kind == "comment_added":
        return data.get("author_kind") == "agent"
    return True


def _is_touch(kind: str, row: dict, data: dict) -> bool:
    actor = row.get("actor")
    if kind == "task_completed":
        return bool(actor) and actor not in SYSTEM_ACTORS
    return kind == "comment_added" and data.get("author_kind") == "agent"


def _stat(row: dict, lookups: Lookups) -> TicketStat | None:
    ticket_id = row["ticket_id"]
    created = row["kind"] == "ticket_created"
    # A ticket opening in this command has no stat row yet: no need to look.
    stat = lookups.stats.get(ticket_id) if created else lookups.stat(ticket_id)
    if stat is not None:
        return stat
    ticket = lookups.ticket(ticket_id)
    if ticket is None:
        return None
    data = row.get("data") if created and isinstance(row.get("data"), dict) else {}
    stat = TicketStat(
        ticket_id=ticket_id,
        type=ticket.type,
        team=(data["team"] if "team" in data else ticket.sla_team_key) or "",
        opened_at=row["at"] if created else ticket.created_at,
        is_open=True,
        touches=0,
        handoffs=0,
        reopens=0,
        escalated=False,
        one_touch=False,
    )
    lookups.session.add(stat)
    lookups.stats[ticket_id] = stat
    return stat


def _business_seconds(stat: TicketStat, start: datetime, end: datetime, lookups: Lookups) -> int:
    return max(0, business_seconds_between(lookups.calendar(stat.team), start, end))


def _first_response(stat: TicketStat, at: datetime, inc: Increments, lookups: Lookups) -> None:
    stat.first_response_at = at
    key = (at.date(), stat.type, stat.team)
    inc.daily[key]["first_responses"] += 1
    ticket = lookups.ticket(stat.ticket_id)
    due = ticket.first_response_due_at if ticket is not None else None
    if due is not None and at <= due:
        inc.daily[key]["first_response_met"] += 1
    seconds = _business_seconds(stat, stat.opened_at, at, lookups)
    _duration(inc, key, "first_response", seconds, 1)


def _duration(inc: Increments, key: tuple, metric: str, seconds: int, sign: int) -> None:
    entry = inc.durations[(*key, metric, bucket_of(seconds))]
    entry[0] += sign
    entry[1] += sign * seconds


def _resolve(stat: TicketStat, status: str, at: datetime, inc: Increments, lookups: Lookups) -> None:
    stat.is_open, stat.resolved_at, stat.resolved_status = False, at, status
    daily = inc.daily[(at.date(), stat.type, stat.team)]
    if status == "cancelled":
        daily["cancelled"] += 1
        stat.resolution_seconds, stat.sla_met, stat.one_touch = None, None, False
        return
    daily["resolved"] += 1
    stat.resolution_seconds = _business_seconds(stat, stat.opened_at, at, lookups)
    _duration(inc, (at.date(), stat.type, stat.team), "resolution", stat.resolution_seconds, 1)
    ticket = lookups.ticket(stat.ticket_id)
    stat.sla_met = ticket.sla_met if ticket is not None else None
    if stat.sla_met is not None:
        daily["sla_met" if stat.sla_met else "sla_breached"] += 1
    stat.one_touch = stat.touches == 1 and stat.reopens == 0
    if stat.one_touch:
        daily["one_touch"] += 1


def _reopen(stat: TicketStat, at: datetime, inc: Increments, lookups: Lookups) -> None:
    """Take the earlier resolution back (figures count a ticket's latest resolution) and count a reopen."""
    key = (stat.resolved_at.date(), stat.type, stat.team)
    earlier = inc.daily[key]
    if stat.resolved_status == "cancelled":
        earlier["cancelled"] -= 1
    else:
        earlier["resolved"] -= 1
        if stat.resolution_seconds is not None:
            _duration(inc, key, "resolution", stat.resolution_seconds, -1)
        if stat.sla_met is not None:
            earlier["sla_met" if stat.sla_met else "sla_breached"] -= 1
        if stat.one_touch:
            earlier["one_touch"] -= 1
    inc.daily[(at.date(), stat.type, stat.team)]["reopened"] += 1
    stat.reopens += 1
    stat.is_open = True
    stat.resolved_at = stat.resolved_status = stat.resolution_seconds = stat.sla_met = None
    stat.one_touch = False


def _element(row: dict, inc: Increments, lookups: Lookups) -> None:
    process = lookups.process(row["instance_id"])
    if process is None:
        return
    key = (*process, row["element_id"], row["at"].date())
    kind = row["kind"]
    if kind in COMPLETIONS:
        seconds = row.get("seconds")  # None: not timed (history from before 0009)
        counts = inc.elements[(*key, UNTIMED if seconds is None else bucket_of(seconds))]
        counts["completed"] += 1
        counts["duration_sum"] += seconds or 0
    else:
        inc.elements[(*key, -1)]["cancelled" if kind == "task_cancelled" else "incidents"] += 1


def _by_key(item: tuple) -> tuple:
    """Sort key of an (aggregate key, counts) pair; a None in the key sorts first."""
    return tuple((value is not None, value if value is not None else 0) for value in item[0])


def flush(session, inc: Increments) -> None:
    """Write the increments: one upsert per table (nothing for a table without any), each table's
    rows in key order, so two transactions lock the shared rows they both touch in the same order."""
    daily = [
        {"day": d, "type": t, "team": team, **{c: counts.get(c, 0) for c in DAILY_COUNTERS}}
        for (d, t, team), counts in sorted(inc.daily.items(), key=_by_key)
        if any(counts.values())
    ]
    add_counts(session, DailyStat.__table__, ("day", "type", "team"), DAILY_COUNTERS, daily)
    durations = [
        {"day": d, "type": t, "team": team, "metric": m, "bucket": b, "count": n, "total": s}
        for (d, t, team, m, b), (n, s) in sorted(inc.durations.items(), key=_by_key)
        if n or s
    ]
    keys = ("day", "type", "team", "metric", "bucket")
    add_counts(session, DurationStat.__table__, keys, ("count", "total"), durations)
    elements = [
        {
            "process_key": k,
            "version": v,
            "element_id": e,
            "day": d,
            "bucket": b,
            **{c: n.get(c, 0) for c in ELEMENT_COUNTERS},
        }
        for (k, v, e, d, b), n in sorted(inc.elements.items(), key=_by_key)
    ]
    keys = ("process_key", "version", "element_id", "day", "bucket")
    add_counts(session, ElementStat.__table__, keys, ELEMENT_COUNTERS, elements)
