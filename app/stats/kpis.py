"""The KPI page's figures per period, ticket type and team, read from the pre-aggregated tables.

`kpis(scope, period, ticket_type, team)` answers with a `Kpis` (`.as_dict()` for JSON and for
alerts); `period_of(name, start, end, today)` builds the period. A few statements per call,
none scanning the history: `daily_stat` and `duration_stat` rows of the period, the open rows of
`ticket_stat`, open tasks, and the latest survey comments.

`scope` is app.access.Scope (or anything with `sees_all` and `lead_keys`): without `sees_all`
the figures are those of the teams it sees whole.
"""

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, or_, select

from app.clock import utcnow
from app.extensions import db
from app.models import (
    DailyStat,
    DurationStat,
    Feedback,
    HumanTask,
    Team,
    TeamMember,
    TicketStat,
    User,
)
from app.stats.backlog import StatOf, backlog_now, where_of
from app.stats.buckets import quantile
from app.stats.record import FOLLOW_UP_ELEMENT

PERIODS = {"today": 1, "7d": 7, "30d": 30}
MAX_PERIOD_DAYS = 366
RECENT_COMMENTS = 5

DEFINITIONS = {
    "opened": "A ticket counts as opened on the day it was created.",
    "resolved": "A ticket is resolved when it reaches a final status (closed, resolved, rejected, denied, "
    "no response); it counts on the day of its latest resolution, so a reopened ticket counts once, "
    "when it is resolved again. Cancelled tickets are counted apart.",
    "backlog": "Tickets not resolved or cancelled, whatever they wait for (an agent, the customer, a "
    "timer); their age is the time since they were opened.",
    "first_response": "The first time a person acts on the ticket by hand: an agent's message in the "
    "conversation or a task completed by a person (automatic e-mails do not count). Measured in "
    "business hours of the team's calendar from the opening.",
    "resolution_time": "Business hours of the team's calendar from the opening to the latest "
    "resolution, time waiting on the customer included.",
    "sla": "Attainment: resolved tickets that met their resolution target, out of resolved tickets "
    "with a target. Breached: resolved late in the period, plus open tickets already past their due "
    "time. First responses are met when sent by the ticket's first-response due time.",
    "escalation": "A deadline missed that the process escalated (team leads notified or the priority "
    "raised by an escalation); a ticket counts once, on the day of its first escalation.",
    "reopen": "A resolved ticket that gets an open status again; the rate is reopens per resolved ticket.",
    "one_touch": "Resolved after exactly one touch by a person (one agent message or one task "
    "completed by hand) and never reopened.",
    "handoff": "A task reassigned from one person to another (task_reassigned).",
    "csat": "Average survey rating (1-5) given in the period; satisfied = ratings 4 and 5. Follow-ups: "
    "low ratings (1-2) followed up by the 'Follow up on low rating' task.",
    "workload": "Open tasks held by each agent against their capacity (set per user by an admin).",
    "team": "A ticket's team is the team of its SLA policy (its type's team), fixed when it opens; "
    "'no team' when the policy names none.",
}


class PeriodError(ValueError):
    """A period that cannot be used; `.field` names the parameter."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Period:
    """UTC days from `start` to `end`, both included."""

    name: str
    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def period_of(
    name: str, start: date | None = None, end: date | None = None, today: date | None = None
) -> Period:
    """'today', '7d', '30d' (ending today), or 'custom' from `start` to `end`.

    Raises:
        PeriodError: naming `period`, `from` or `to`.
    """
    today = today or utcnow().date()
    if name in PERIODS:
        return Period(name, today - timedelta(days=PERIODS[name] - 1), today)
    if name != "custom":
        raise PeriodError("period", f"must be one of {', '.join([*PERIODS, 'custom'])}")
    if start is None:
        raise PeriodError("from", "a custom period needs a start date (YYYY-MM-DD)")
    end = end or today
    if end < start:
        raise PeriodError("to", "the end date is before the start date")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError("to", f"a period spans at most {MAX_PERIOD_DAYS} days")
    return Period(name, start, end)


@dataclass
class Kpis:
    period: Period
    ticket_type: str | None
    team: str | None
    days: list[str]
    opened: list[int]
    resolved: list[int]
    backlog_series: list[int]
    totals: dict
    backlog: dict
    first_response: dict
    resolution: dict
    sla: dict
    csat: dict
    workload: list[dict] = field(default_factory=list)
    unassigned: int = 0

    def as_dict(self) -> dict:
        found = asdict(self)
        found["period"] = {
            "name": self.period.name,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
        }
        return found


def kpis(
    scope,
    period: Period,
    ticket_type: str | None = None,
    team: str | None = None,
    now: datetime | None = None,
) -> Kpis:
    """Every figure of the KPI page for the period, type (None: all) and team (None: all in scope; '' no team)."""
    now = now or utcnow()
    counters = [c for c in DailyStat.__table__.columns if c.name not in ("day", "type", "team")]
    where = where_of(DailyStat, scope, ticket_type, team)
    rows = db.session.execute(
        select(DailyStat.day, *[func.sum(c).label(c.name) for c in counters])
        .where(*where, DailyStat.day >= period.start, DailyStat.day <= period.end)
        .group_by(DailyStat.day)
    ).all()
    by_day = {r.day: r._mapping for r in rows}
    totals = {c.name: int(sum((m[c.name] or 0) for m in by_day.values())) for c in counters}
    days = period.days
    opened = [int(by_day[d]["opened"] or 0) if d in by_day else 0 for d in days]
    closed = [
        int((by_day[d]["resolved"] or 0) + (by_day[d]["cancelled"] or 0)) if d in by_day else 0 for d in days
    ]
    backlog = backlog_now(scope, ticket_type, team, now)
    after = db.session.execute(
        select(func.coalesce(func.sum(DailyStat.opened - DailyStat.resolved - DailyStat.cancelled), 0)).where(
            *where, DailyStat.day > period.end
        )
    ).scalar()
    level = backlog["open"] - int(after or 0)
    series = []
    for o, c in zip(reversed(opened), reversed(closed), strict=True):
        series.append(level)
        level -= o - c
    durations = _durations(scope, period, ticket_type, team)
    resolved = totals["resolved"]
    return Kpis(
        period=period,
        ticket_type=ticket_type,
        team=team,
        days=[d.isoformat() for d in days],
        opened=opened,
        resolved=[int(by_day[d]["resolved"] or 0) if d in by_day else 0 for d in days],
        backlog_series=list(reversed(series)),
        totals={
            **totals,
            "escalation_rate": _share(totals["escalated"], totals["opened"]),
            "reopen_rate": _share(totals["reopened"], resolved),
            "one_touch_rate": _share(totals["one_touch"], resolved),
            "handoffs_per_ticket": round(totals["handoffs"] / totals["opened"], 2)
            if totals["opened"]
            else None,
        },
        backlog=backlog,
        first_response={
            **durations.get("first_response", _no_durations()),
            "met": totals["first_response_met"],
            "attainment": _share(totals["first_response_met"], totals["first_responses"]),
        },
        resolution=durations.get("resolution", _no_durations()),
        sla={
            "met": totals["sla_met"],
            "breached": totals["sla_breached"],
            "attainment": _share(totals["sla_met"], totals["sla_met"] + totals["sla_breached"]),
            "open_breached": backlog.pop("breached"),
        },
        csat=_csat(scope, period, ticket_type, team, totals),
        **_workload(scope, ticket_type, team),
    )


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _no_durations() -> dict:
    return {"count": 0, "average_hours": None, "median_hours": None, "p90_hours": None}


def _durations(scope, period: Period, ticket_type, team) -> dict:
    rows = db.session.execute(
        select(
            DurationStat.metric,
            DurationStat.bucket,
            func.sum(DurationStat.count),
            func.sum(DurationStat.total),
        )
        .where(
            *where_of(DurationStat, scope, ticket_type, team),
            DurationStat.day >= period.start,
            DurationStat.day <= period.end,
        )
        .group_by(DurationStat.metric, DurationStat.bucket)
    ).all()
    found: dict = {}
    for metric, bucket, count, total in rows:
        entry = found.setdefault(metric, {"buckets": {}, "total": 0})
        entry["buckets"][bucket] = int(count or 0)
        entry["total"] += int(total or 0)
    return {metric: _summary(entry["buckets"], entry["total"]) for metric, entry in found.items()}


def _summary(buckets: dict, total: int) -> dict:
    count = sum(n for n in buckets.values() if n > 0)
    hours = lambda seconds: None if seconds is None else round(seconds / 3600, 2)  # noqa: E731
    return {
        "count": count,
        "average_hours": hours(total / count) if count else None,
        "median_hours": hours(quantile(buckets, 0.5)),
        "p90_hours": hours(quantile(buckets, 0.9)),
    }


def _csat(scope, period: Period, ticket_type, team, totals: dict) -> dict:
    count = totals["feedback"]
    start = datetime.combine(period.start, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=(period.end - period.start).days + 1)
    comments = db.session.execute(
        select(Feedback.rating, Feedback.comment, Feedback.created_at, Feedback.ticket_id)
        .join(TicketStat, TicketStat.ticket_id == Feedback.ticket_id)
        .where(
            *where_of(TicketStat, scope, ticket_type, team),
            Feedback.comment.is_not(None),
            Feedback.created_at >= start,
            Feedback.created_at < end,
        )
        .order_by(Feedback.id.desc())
        .limit(RECENT_COMMENTS)
    ).all()
    follow_ups = select(func.count(HumanTask.id)).where(HumanTask.name == FOLLOW_UP_ELEMENT)
    narrower = where_of(TicketStat, scope, ticket_type, team)
    if narrower:  # by primary key per open task, not a join PostgreSQL would hash over every ticket
        follow_ups = follow_ups.where(
            select(TicketStat.ticket_id)
            .where(TicketStat.ticket_id == HumanTask.ticket_id, *narrower)
            .exists()
        )
    open_follow_ups = db.session.execute(follow_ups).scalar()
    low = totals["rating_1"] + totals["rating_2"]
    return {
        "count": count,
        "average": round(totals["rating_sum"] / count, 2) if count else None,
        "satisfied": _share(totals["rating_4"] + totals["rating_5"], count),
        "distribution": [totals[f"rating_{n}"] for n in range(1, 6)],
        "low": low,
        "follow_ups_done": totals["follow_ups"],
        "follow_ups_open": int(open_follow_ups or 0),
        "comments": [
            {"rating": r, "comment": c, "at": at.isoformat(), "ticket_id": t} for r, c, at, t in comments
        ],
    }


def _workload(scope, ticket_type, team) -> dict:
    """Open tasks per agent (of the teams in view) against their capacity; unassigned ones apart."""
    where = []
    if team is not None:
        where.append(HumanTask.team == team)
    elif not scope.sees_all:
        where.append(HumanTask.team.in_(scope.lead_keys))
    query = (
        select(HumanTask.assignee_id, func.count(HumanTask.id)).where(*where).group_by(HumanTask.assignee_id)
    )
    if ticket_type:
        query = query.where(StatOf(HumanTask.ticket_id).type == ticket_type)
    counts = dict(db.session.execute(query).all())
    unassigned = int(counts.pop(None, 0))
    members = select(User.id, User.username, User.name, User.capacity).where(User.active.is_(True))
    if team is not None or not scope.sees_all:
        teams = [team] if team is not None else list(scope.lead_keys)
        in_teams = (
            select(TeamMember.user_id).join(Team, Team.id == TeamMember.team_id).where(Team.key.in_(teams))
        )
        members = members.where(or_(User.id.in_(in_teams), User.id.in_(list(counts) or [-1])))
    else:
        members = members.where(or_(User.role == "agent", User.id.in_(list(counts) or [-1])))
    people = db.session.execute(members.order_by(User.username)).all()
    workload = [
        {
            "username": username,
            "name": name,
            "open": int(counts.get(user_id, 0)),
            "capacity": capacity,
            "load": _share(int(counts.get(user_id, 0)), capacity),
        }
        for user_id, username, name, capacity in people
    ]
    workload.sort(key=lambda w: (-(w["load"] or 0), w["username"]))
    return {"workload": workload, "unassigned": unassigned}
