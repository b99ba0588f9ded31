"""The KPI page's backlog: the open tickets now, by age, and how many of them are past their SLA.

`backlog_now(scope, ticket_type, team, now)`; `where_of` is the type and team condition every KPI
query puts on its table (DailyStat, DurationStat, TicketStat); `StatOf` reads a ticket's
`ticket_stat` type and team by primary key.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from app.extensions import db
from app.models import UNFINISHED, Ticket, TicketStat

AGE_BUCKETS = (
    ("under 1 day", 1),
    ("1-3 days", 3),
    ("3-7 days", 7),
    ("7-30 days", 30),
    ("over 30 days", None),
)


def where_of(model, scope, ticket_type: str | None, team: str | None) -> list:
    found = []
    if ticket_type:
        found.append(model.type == ticket_type)
    if team is not None:
        found.append(model.team == team)
    elif not scope.sees_all:
        found.append(model.team.in_(scope.lead_keys))
    return found


class StatOf:
    """The `type` and `team` of a ticket's ticket_stat row as scalar subqueries: read by primary
    key for each row of the outer query (an open task, an unfinished ticket), which no planner
    turns into a hash join over the million ticket_stat rows."""

    def __init__(self, ticket_id):
        self.type = self._column(TicketStat.type, ticket_id)
        self.team = self._column(TicketStat.team, ticket_id)

    @staticmethod
    def _column(column, ticket_id):
        return select(column).where(TicketStat.ticket_id == ticket_id).scalar_subquery()


def _breached(now: datetime):
    return and_(
        UNFINISHED,
        or_(Ticket.sla_met.is_(False), and_(Ticket.sla_running_since.is_not(None), Ticket.sla_due_at < now)),
    )


def _late(scope, ticket_type, team, now: datetime) -> int:
    """The open tickets past due or with a recorded miss, read from the index of unfinished
    tickets (ix_ticket_unfinished holds the SLA columns and the type), not each open ticket's row
    of the million-row table; for a team (or a lead's teams), each breached ticket's
    `ticket_stat` team read by primary key (a scalar subquery, which no planner turns into a hash
    join over the million ticket_stat rows)."""
    breached = select(func.count()).where(_breached(now))
    if ticket_type:  # on SQLite an expression, so that it keeps to the unfinished index
        sqlite = db.engine.dialect.name == "sqlite"
        breached = breached.where((func.coalesce(Ticket.type, "") if sqlite else Ticket.type) == ticket_type)
    if team is not None or not scope.sees_all:
        breached = breached.where(*where_of(StatOf(Ticket.id), scope, None, team))
    return int(db.session.execute(breached).scalar() or 0)


def backlog_now(scope, ticket_type, team, now: datetime) -> dict:
    """Open tickets now, by age, and how many of them are past their SLA due time."""
    age = [
        func.sum(case((TicketStat.opened_at > now - timedelta(days=limit), 1), else_=0))
        for _, limit in AGE_BUCKETS
        if limit
    ]
    in_view = [TicketStat.is_open.is_(True), *where_of(TicketStat, scope, ticket_type, team)]
    # count(*), not of a column: ix_ticket_stat_open answers alone (PostgreSQL read each open
    # row of the table for its ticket_id: 150 ms for a type and team at a million tickets, now 3).
    row = db.session.execute(select(func.count(), func.min(TicketStat.opened_at), *age).where(*in_view)).one()
    total, oldest, *within = row
    total = int(total or 0)
    cumulative = [int(n or 0) for n in within] + [total]
    ages, previous = [], 0
    for (label, _), upto in zip(AGE_BUCKETS, cumulative, strict=True):
        ages.append({"label": label, "count": upto - previous})
        previous = upto
    return {
        "open": total,
        "oldest_days": round((now - oldest).total_seconds() / 86400, 1) if oldest else None,
        "ages": ages,
        "breached": _late(scope, ticket_type, team, now),
    }
