"""The inbox in SQL: the views (mine, team, all), filters, counts and pages (scopes: app.access).

Every list is one indexed query with LIMIT/OFFSET; nothing loads all rows. The ticket and
customer tables are joined only when a filter needs them (counts) or for the page's rows.
"""

import operator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import reduce

from flask import g
from sqlalchemy import Integer, and_, any_, bindparam, case, false, func, or_, true, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import defer

from app import sla
from app.access import Scope
from app.extensions import db
from app.models import (
    PRIORITIES,
    Customer,
    HumanTask,
    ProcessDefinition,
    Ticket,
    User,
)
from app.models.ticket import priority_rank

PAGE_SIZE = 25
# Pages of a view with several index ranges merge the ranges' heads up to this depth (`_page_ids`).
MERGED_DEPTH = 1000
# On PostgreSQL a customer-name filter matching at most this many customers filters the tickets by
# their ids (`_customer_condition`).
CUSTOMER_IDS_MAX = 5000
SLA_STATES = {"on_track": "On track", "at_risk": "At risk", "breached": "Breached"}
# Every column of the list sorts (the header links); "due" (the task's due date) is the default.
SORTS = {
    "task": "Task",
    "ticket": "Ticket",
    "customer": "Customer",
    "priority": "Priority",
    "status": "Status",
    "sla": "SLA due",
    "due": "Task due",
    "assignee": "Assignee",
}
DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class Filters:
    """The inbox's filters and sort order, read from the query string (unknown values are ignored)."""

    type: str = ""
    priority: str = ""
    status: str = ""
    sla: str = ""
    customer: str = ""
    sort: str = "due"
    dir: str = "asc"

    @classmethod
    def from_args(cls, args) -> "Filters":
        def pick(name: str, allowed) -> str:
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        return cls(
            type=(args.get("type") or "").strip()[:64],
            priority=pick("priority", PRIORITIES),
            status=(args.get("status") or "").strip()[:32],
            sla=pick("sla", SLA_STATES),
            customer=(args.get("customer") or "").strip()[:100],
            sort=pick("sort", SORTS) or "due",
            dir=pick("dir", DIRECTIONS) or "asc",
        )

    def as_args(self, **changes) -> dict:
        """Query-string arguments for links that keep the filters."""
        values = replace(self, **changes) if changes else self
        args = {name: getattr(values, name) for name in ("type", "priority", "status", "sla", "customer")}
        if values.sort != "due":
            args["sort"] = values.sort
        if values.dir != "asc":
            args["dir"] = values.dir
        return {k: v for k, v in args.items() if v}

    def sorted_by(self, column: str) -> dict:
        """Arguments of a column header's link: sort by it, or flip the direction when it sorts already."""
        flipped = "desc" if self.sort == column and self.dir == "asc" else "asc"
        return self.as_args(sort=column, dir=flipped)

    def aria_sort(self, column: str) -> str:
        if self.sort != column:
            return "none"
        return "descending" if self.dir == "desc" else "ascending"

    @property
    def active(self) -> bool:
        return bool(self.type or self.priority or self.status or self.sla or self.customer)


def view_branches(scope: Scope, view: str) -> list:
    """The WHERE clause of a view as a list of conditions to OR, each one range of an ordered index:
    a page can walk each range in order and merge them (`page_rows`)."""
    if view == "mine":
        return [HumanTask.assignee_id == scope.user_id]
    if view == "team":
        if scope.sees_all:
            return [HumanTask.assignee_id.is_(None)]
        # One range of (team, assignee_id) per team: "assignee IS NULL AND (a OR b)" would scan every queued task.
        return [and_(HumanTask.team == key, HumanTask.assignee_id.is_(None)) for key in scope.team_keys] + [
            and_(HumanTask.team.is_(None), HumanTask.assignee_id.is_(None))
        ]
    if view == "all":
        if scope.sees_all:
            return [true()]
        return [HumanTask.team == key for key in scope.lead_keys] or [false()]
    raise ValueError(f"unknown view {view!r}")


def view_condition(scope: Scope, view: str):
    """The WHERE clause of a view."""
    branches = view_branches(scope, view)
    return branches[0] if len(branches) == 1 else or_(*branches)


def _resolution_at_risk(now: datetime):
    """The resolution clock has reached its at-risk moment (app.sla `sla_at_risk_at`, in business time)."""
    return HumanTask.sla_at_risk_at <= now


def _resolution_on_track(now: datetime):
    return or_(HumanTask.sla_at_risk_at > now, HumanTask.sla_at_risk_at.is_(None))


def sla_state_condition(state: str, now: datetime):
    """Tasks whose ticket's SLA badge (`pages.sla_of`) shows `state`: the worse of the resolution's
    state and the first response's, so a first response answered late or overdue is "breached".
    Read from the task's copies of its ticket's times (app.engine.runtime.ticket_copies): no join."""
    due, responded = HumanTask.first_response_due_at, HumanTask.first_responded_at
    response_breached = and_(
        due.is_not(None),
        or_(and_(responded.is_not(None), responded > due), and_(responded.is_(None), due < now)),
    )
    response_not_breached = or_(
        due.is_(None), and_(responded.is_not(None), responded <= due), and_(responded.is_(None), due >= now)
    )
    response_at_risk = and_(
        responded.is_(None), due >= now, due < now + timedelta(seconds=sla.AT_RISK_MIN_SECONDS)
    )
    resolution_on_track = and_(HumanTask.sla_due_at >= now, _resolution_on_track(now))
    if state == "breached":
        return or_(HumanTask.sla_due_at < now, response_breached)
    if state == "at_risk":
        resolution_at_risk = and_(HumanTask.sla_due_at >= now, _resolution_at_risk(now))
        return and_(
            response_not_breached, or_(resolution_at_risk, and_(response_at_risk, resolution_on_track))
        )
    if state == "on_track":
        response_on_track = or_(
            due.is_(None),
            and_(responded.is_not(None), responded <= due),
            and_(responded.is_(None), due >= now + timedelta(seconds=sla.AT_RISK_MIN_SECONDS)),
        )
        return and_(resolution_on_track, response_on_track)
    raise ValueError(f"unknown SLA state {state!r}")


def filter_conditions(filters: Filters, now: datetime) -> list:
    """WHERE clauses of the filters, on the task's copies of its ticket's columns
    (app.engine.runtime.ticket_copies); the customer's name needs the join of `with_joins` on SQLite."""
    where = []
    if filters.priority:
        # by its rank: the team's (team, priority_rank, ...) index narrows a whole team to the priority
        where.append(HumanTask.priority_rank == priority_rank(filters.priority))
    if filters.type:
        where.append(HumanTask.ticket_type == filters.type)
    if filters.status:
        where.append(HumanTask.ticket_status == filters.status)
    if filters.sla:
        where.append(sla_state_condition(filters.sla, now))
    if filters.customer:
        where.append(_customer_condition(filters.customer))
    return where


def _customer_condition(text: str):
    """The tasks of the customers whose name contains `text` (any case): by the matching customers'
    ids on PostgreSQL (`_customer_ids`), else by the name through the join of `with_joins`."""
    ids = _customer_ids(text)
    if ids is None:
        return Customer.name.ilike(_pattern(text), escape="\\")
    return HumanTask.customer_id == any_(bindparam("customer_ids", ids, type_=ARRAY(Integer)))


def _pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _customer_ids(text: str) -> list[int] | None:
    """On PostgreSQL, the ids of the customers whose name contains `text`, read once a request; None
    on SQLite or for more than `CUSTOMER_IDS_MAX` of them (the name is then matched in the join).

    PostgreSQL cannot estimate a substring match: it expected one customer where a common name
    part finds a tenth of them, and drove the counts and the page from the customers through every
    one of their tickets. Filtered by an array of ids (the task's copy of its ticket's customer),
    whose size the planner knows, it starts from the view's index ranges instead.
    """
    if db.engine.dialect.name != "postgresql":
        return None
    pattern = _pattern(text)
    cache = g.setdefault("inbox_customer_ids", {})
    if pattern not in cache:
        match = Customer.name.ilike(pattern, escape="\\")
        query = db.select(Customer.id).where(match).limit(CUSTOMER_IDS_MAX + 1)
        cache[pattern] = list(db.session.execute(query).scalars())
    ids = cache[pattern]
    return ids if len(ids) <= CUSTOMER_IDS_MAX else None


def joins_customer(filters: Filters) -> bool:
    """Whether the customer is joined: for its sort, or its name filter when not matched by ids.
    No other filter or sort joins a table (the task rows copy what they read)."""
    return filters.sort == "customer" or bool(filters.customer and _customer_ids(filters.customer) is None)


ASSIGNEE = db.aliased(User, name="assignee")


def with_joins(query, filters: Filters, sorting: bool = False):
    """Join the customer when a filter (or, with `sorting`, the sort) needs it."""
    if joins_customer(filters):
        query = query.outerjoin(Customer, Customer.id == HumanTask.customer_id)
    if sorting and filters.sort == "assignee":
        query = query.outerjoin(ASSIGNEE, ASSIGNEE.id == HumanTask.assignee_id)
    return query


def counts(scope: Scope, filters: Filters, now: datetime) -> dict[str, int]:
    """How many tasks each view holds with the current filters."""
    conditions = filter_conditions(filters, now)
    bare = replace(filters, sort="due")  # counting never needs the sort's joins
    views = scope.views()
    if db.engine.dialect.name == "postgresql":
        return dict(zip(views, _pg_counts(scope, views, bare, conditions), strict=True))
    # SQLite: each view counted from its index alone, and with a customer filter in the order of
    # ix_human_task_team_customer (the customers read in their table's order).
    found = {}
    for view in views:
        query = with_joins(db.select(func.count()).select_from(HumanTask), bare)
        found[view] = db.session.execute(query.where(view_condition(scope, view), *conditions)).scalar()
    return found


def _pg_counts(scope: Scope, views: list[str], bare: Filters, conditions: list) -> list[int]:
    """Every view's count in one statement."""
    if joins_customer(bare):
        # A join: one pass over the union of the views (a bitmap OR of their index ranges), each
        # counted with FILTER, so every task is joined once, not once per view.
        where = [view_condition(scope, view) for view in views]
        columns = [func.count().filter(condition) for condition in where]
        query = with_joins(db.select(*columns).select_from(HumanTask), bare)
        return list(db.session.execute(query.where(or_(*where), *conditions)).one())
    # Without a join: each view the sum of its index ranges counted apart (they are disjoint). One
    # range is an index-only count; the OR of a queue's ranges made PostgreSQL visit the table.
    columns = []
    for view in views:
        ranges = [
            db.select(func.count()).select_from(HumanTask).where(branch, *conditions).scalar_subquery()
            for branch in view_branches(scope, view)
        ]
        columns.append(reduce(operator.add, ranges))
    return [int(n or 0) for n in db.session.execute(db.select(*columns)).one()]


def _sort_column(sort: str):
    return {
        "task": HumanTask.title,
        "ticket": HumanTask.ticket_id,
        "customer": Customer.name,
        "priority": HumanTask.priority_rank,
        "status": HumanTask.ticket_status,
        "sla": HumanTask.sla_due_at,
        "due": HumanTask.due_at,
        "assignee": ASSIGNEE.name,
    }[sort]


def new_counts(scope: Scope, since: datetime | None) -> dict[str, int]:
    """How many tasks of each view arrived after `since` (the person's last look), in one statement
    that reads only those recent rows (ix_human_task_created)."""
    views = scope.views()
    if since is None:
        return dict.fromkeys(views, 0)
    columns = [func.count(case((view_condition(scope, view), 1))) for view in views]
    row = db.session.execute(db.select(*columns).where(HumanTask.created_at > since)).one()
    return {view: int(value or 0) for view, value in zip(views, row, strict=True)}


def order_by(filters: Filters) -> list:
    """The chosen column (empty values last in either direction), then the task due date, arrival and
    id, so equal values keep one stable order. The default (task due date ascending) is exactly the
    ix_human_task_*due_order indexes' expressions."""
    due = [HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id]
    if filters.sort == "due":
        if filters.dir == "desc":
            return [HumanTask.due_at.is_(None), HumanTask.due_at.desc(), HumanTask.created_at, HumanTask.id]
        return due
    column = _sort_column(filters.sort)
    first = [column.desc() if filters.dir == "desc" else column]
    if filters.sort != "priority":
        first.insert(0, column.is_(None))
    return [*first, *due]


# A page's rows by their ids, built once. What a list row never shows is deferred: a ticket's data (a
# document of any size, decoded per row) and a task's instructions; touching one would load it.
_PAGE_ROWS = (
    db.select(HumanTask, Ticket, Customer.name, ASSIGNEE.name)
    .select_from(HumanTask)
    .outerjoin(Ticket, Ticket.id == HumanTask.ticket_id)
    .outerjoin(Customer, Customer.id == Ticket.customer_id)
    .outerjoin(ASSIGNEE, ASSIGNEE.id == HumanTask.assignee_id)
    .where(HumanTask.id.in_(bindparam("ids", expanding=True)))
    .options(defer(Ticket.data), defer(HumanTask.instructions))
)


@dataclass
class InboxRow:
    task: HumanTask
    ticket: Ticket | None
    customer_name: str | None
    assignee_name: str | None

    @property
    def first_response_at(self) -> datetime | None:
        """The ticket's first response (the task's copy: app.engine.runtime.ticket_copies)."""
        return self.task.first_responded_at


def page_rows(scope: Scope, view: str, filters: Filters, now: datetime, page: int) -> list[InboxRow]:
    """One page of a view, with each task's ticket, customer and assignee.

    Two steps: the page's task ids from the indexes (joining only what a filter needs), then
    those 25 rows with their ticket, customer and assignee.
    """
    ids = list(db.session.execute(_page_ids(scope, view, filters, now, page)).scalars())
    if not ids:
        return []
    found = {
        task.id: InboxRow(task, ticket, customer, name)
        for task, ticket, customer, name in db.session.execute(_PAGE_ROWS, {"ids": ids})
    }
    return [found[i] for i in ids if i in found]


def _page_ids(scope: Scope, view: str, filters: Filters, now: datetime, page: int):
    """The statement of a page's task ids. A view of several index ranges (a team queue: one per team,
    and the tasks outside any team) takes the first `offset + PAGE_SIZE` of each range in order, then
    sorts those few: each range walks its index instead of all the view's tasks being sorted."""
    offset = (max(page, 1) - 1) * PAGE_SIZE
    conditions, order = filter_conditions(filters, now), order_by(filters)

    def ids(where, limit: int, skip: int = 0):
        query = with_joins(db.select(HumanTask.id), filters, sorting=True).where(where, *conditions)
        return query.order_by(*order).limit(limit).offset(skip)

    branches = view_branches(scope, view)
    if len(branches) == 1 or offset + PAGE_SIZE > MERGED_DEPTH:
        return ids(or_(*branches), PAGE_SIZE, offset)
    heads = [ids(branch, offset + PAGE_SIZE).subquery() for branch in branches]
    return ids(HumanTask.id.in_(union_all(*(db.select(head.c.id) for head in heads))), PAGE_SIZE, offset)


def ticket_types() -> list[str]:
    """Ticket types for the filter (the deployed process keys)."""
    return list(
        db.session.execute(
            db.select(ProcessDefinition.key)
            .where(ProcessDefinition.kind == "bpmn")
            .distinct()
            .order_by(ProcessDefinition.key)
        ).scalars()
    )
