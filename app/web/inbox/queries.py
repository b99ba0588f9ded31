"""The inbox in SQL: who sees which tasks, the views (mine, team, all), filters, counts and pages.

Every list is one indexed query with LIMIT/OFFSET; nothing loads all rows. The ticket and
customer tables are joined only when a filter needs them (counts) or for the page's rows.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, case, false, func, literal, or_, true
from sqlalchemy.types import DateTime

from app import sla
from app.extensions import db
from app.models import (
    PRIORITIES,
    Customer,
    HistoryEvent,
    HumanTask,
    ProcessDefinition,
    Team,
    TeamMember,
    Ticket,
    User,
)

PAGE_SIZE = 25
VIEWS = {"mine": "My tasks", "team": "Unassigned in my teams", "all": "Everything in my teams"}
SLA_STATES = {"on_track": "On track", "at_risk": "At risk", "breached": "Breached"}
SORTS = {"due": "Due date", "priority": "Priority"}
# Highest first when sorting by priority.
PRIORITY_RANK = {name: rank for rank, name in enumerate(reversed(PRIORITIES))}


@dataclass(frozen=True)
class Scope:
    """What a staff member may see: their teams, the teams they see whole, or everything."""

    user_id: int
    team_keys: tuple[str, ...] = ()
    lead_keys: tuple[str, ...] = ()
    sees_all: bool = False

    @property
    def has_all_view(self) -> bool:
        return self.sees_all or bool(self.lead_keys)

    def views(self) -> list[str]:
        return [v for v in VIEWS if v != "all" or self.has_all_view]

    def may_see(self, task: HumanTask) -> bool:
        """An agent sees their own tasks, their teams' tasks and tasks outside any team."""
        return (self.sees_all or task.assignee_id == self.user_id or task.team is None
                or task.team in self.team_keys)


def scope_of(user: User) -> Scope:
    """Admins see everything; managers their teams whole (everything without a team); leads the teams they lead."""
    rows = db.session.execute(db.select(Team.key, TeamMember.is_lead).join(TeamMember, TeamMember.team_id == Team.id)
                              .where(TeamMember.user_id == user.id)).all()
    teams = tuple(sorted(key for key, _ in rows))
    if user.role == "admin":
        return Scope(user.id, teams, teams, True)
    if user.role == "manager":
        return Scope(user.id, teams, teams, not teams)
    return Scope(user.id, teams, tuple(sorted(key for key, lead in rows if lead)))


@dataclass(frozen=True)
class Filters:
    """The inbox's filters and sort order, read from the query string (unknown values are ignored)."""

    type: str = ""
    priority: str = ""
    status: str = ""
    sla: str = ""
    customer: str = ""
    sort: str = "due"

    @classmethod
    def from_args(cls, args) -> "Filters":
        def pick(name: str, allowed) -> str:
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        return cls(type=(args.get("type") or "").strip()[:64], priority=pick("priority", PRIORITIES),
                   status=(args.get("status") or "").strip()[:32], sla=pick("sla", SLA_STATES),
                   customer=(args.get("customer") or "").strip()[:100], sort=pick("sort", SORTS) or "due")

    def as_args(self, **changes) -> dict:
        """Query-string arguments for links that keep the filters."""
        values = replace(self, **changes) if changes else self
        args = {name: getattr(values, name) for name in ("type", "priority", "status", "sla", "customer")}
        if values.sort != "due":
            args["sort"] = values.sort
        return {k: v for k, v in args.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.type or self.priority or self.status or self.sla or self.customer)

    @property
    def needs_ticket(self) -> bool:
        return bool(self.type or self.status or self.sla or self.customer)


def view_condition(scope: Scope, view: str):
    """The WHERE clause of a view."""
    if view == "mine":
        return HumanTask.assignee_id == scope.user_id
    if view == "team":
        if scope.sees_all:
            return HumanTask.assignee_id.is_(None)
        # Two index ranges of (team, assignee_id): "assignee IS NULL AND (a OR b)" would scan every queued task.
        return or_(and_(HumanTask.team.in_(scope.team_keys), HumanTask.assignee_id.is_(None)),
                   and_(HumanTask.team.is_(None), HumanTask.assignee_id.is_(None)))
    if view == "all":
        if scope.sees_all:
            return true()
        return HumanTask.team.in_(scope.lead_keys) if scope.lead_keys else false()
    raise ValueError(f"unknown view {view!r}")


def _seconds_left(now: datetime):
    """Seconds from `now` to the ticket's SLA due time, in SQL (wall-clock time)."""
    naive = now.replace(tzinfo=None)
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", Ticket.sla_due_at - literal(naive, DateTime()))
    return (func.julianday(Ticket.sla_due_at) - func.julianday(naive.isoformat(sep=" "))) * 86400.0


def _at_risk_window():
    target = func.coalesce(Ticket.sla_target_seconds, 0) * sla.AT_RISK_SHARE
    larger = func.greatest if db.engine.dialect.name == "postgresql" else func.max
    return larger(target, sla.AT_RISK_MIN_SECONDS)


def filter_conditions(filters: Filters, now: datetime) -> list:
    """WHERE clauses of the filters; those on Ticket or Customer need the joins of `with_joins`."""
    where = []
    if filters.priority:
        where.append(HumanTask.priority == filters.priority)
    if filters.type:
        where.append(Ticket.type == filters.type)
    if filters.status:
        where.append(Ticket.status == filters.status)
    if filters.sla == "breached":
        where.append(Ticket.sla_due_at < now)
    elif filters.sla == "at_risk":
        where += [Ticket.sla_due_at >= now, _seconds_left(now) < _at_risk_window()]
    elif filters.sla == "on_track":
        where += [Ticket.sla_due_at >= now, _seconds_left(now) >= _at_risk_window()]
    if filters.customer:
        pattern = "%" + filters.customer.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(Customer.name.ilike(pattern, escape="\\"))
    return where


def with_joins(query, filters: Filters, always: bool = False):
    if always or filters.needs_ticket:
        query = query.outerjoin(Ticket, Ticket.id == HumanTask.ticket_id)
    if always or filters.customer:
        query = query.outerjoin(Customer, Customer.id == Ticket.customer_id)
    return query


def counts(scope: Scope, filters: Filters, now: datetime) -> dict[str, int]:
    """How many tasks each view holds with the current filters."""
    found = {}
    conditions = filter_conditions(filters, now)
    for view in scope.views():
        query = with_joins(db.select(func.count()).select_from(HumanTask), filters)
        found[view] = db.session.execute(query.where(view_condition(scope, view), *conditions)).scalar()
    return found


def order_by(filters: Filters) -> list:
    """Due date first, undated last; the same expressions as the ix_human_task_*due_order indexes."""
    due = [HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id]
    if filters.sort == "priority":
        return [case(PRIORITY_RANK, value=HumanTask.priority, else_=len(PRIORITIES)), *due]
    return due


@dataclass
class InboxRow:
    task: HumanTask
    ticket: Ticket | None
    customer_name: str | None
    assignee_name: str | None


def page_rows(scope: Scope, view: str, filters: Filters, now: datetime, page: int) -> list[InboxRow]:
    """One page of a view, with each task's ticket, customer and assignee.

    Two steps: the page's task ids from the indexes (joining only what a filter needs), then
    those 25 rows with their ticket, customer and assignee.
    """
    ids_query = with_joins(db.select(HumanTask.id), filters)
    ids = list(db.session.execute(
        ids_query.where(view_condition(scope, view), *filter_conditions(filters, now))
        .order_by(*order_by(filters)).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)).scalars())
    if not ids:
        return []
    assignee = db.aliased(User)
    query = (db.select(HumanTask, Ticket, Customer.name, assignee.name).select_from(HumanTask)
             .outerjoin(Ticket, Ticket.id == HumanTask.ticket_id)
             .outerjoin(Customer, Customer.id == Ticket.customer_id)
             .outerjoin(assignee, assignee.id == HumanTask.assignee_id)
             .where(HumanTask.id.in_(ids)))
    found = {task.id: InboxRow(task, ticket, customer, name)
             for task, ticket, customer, name in db.session.execute(query)}
    return [found[i] for i in ids if i in found]


def ticket_types() -> list[str]:
    """Ticket types for the filter (the deployed process keys)."""
    return list(db.session.execute(db.select(ProcessDefinition.key).where(ProcessDefinition.kind == "bpmn")
                                   .distinct().order_by(ProcessDefinition.key)).scalars())


def ticket_visible(scope: Scope, ticket_id: int, username: str) -> bool:
    """A ticket is visible with an open task the person may see, or when they acted on it before."""
    if scope.sees_all:
        return True
    tasks = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalars()
    if any(scope.may_see(task) for task in tasks):
        return True
    acted = db.session.execute(db.select(HistoryEvent.id).where(HistoryEvent.ticket_id == ticket_id,
                                                                HistoryEvent.actor == username).limit(1)).scalar()
    return acted is not None


def closed_task_visible(scope: Scope, task_id: str, username: str) -> bool:
    """Whether to tell this person that a task is no longer open (rather than that it does not exist).

    The team of a closed task comes from its `task_assigned` history; a task that never had
    one was outside any team, open to every agent.
    """
    events = db.session.execute(db.select(HistoryEvent.kind, HistoryEvent.actor, HistoryEvent.data)
                                .where(HistoryEvent.task_id == task_id[:36]).order_by(HistoryEvent.id)).all()
    if not events:
        return False
    if scope.sees_all or any(actor == username for _, actor, _ in events):
        return True
    teams = [data.get("team") for kind, _, data in events if kind == "task_assigned" and isinstance(data, dict)]
    return not teams or teams[-1] is None or teams[-1] in scope.team_keys
