"""The ticket list's filters in SQL, and the same rules in Python for the rows on a page.

Each filter is a condition on `ticket` that an index answers: equality filters (the version is
`ticket.definition_id`) lead the (column, created_at, id) indexes; the business-field, customer,
assignee and team filters are `ticket.id IN (...)` lookups on ticket_field (name, value), customer
(lower(name), lower(email)), human_task (assignee_id / team); the derived states walk the partial
index of unfinished tickets.

SLA states: the SQL and `sla_state_of` agree with each other and with the ticket page's badge
(app.sla.sla_state): "at risk" is read from `ticket.sla_at_risk_at`, the moment the business time
left reaches the at-risk window (a quarter of the target, at least an hour), which app.sla keeps
with the due time.
"""

from datetime import datetime

from sqlalchemy import and_, exists, false, func, not_, or_, true

from app import sla
from app.extensions import db
from app.models import (
    UNFINISHED,
    Customer,
    HumanTask,
    Incident,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    Ticket,
    TicketField,
    Timer,
    field_value,
)
from app.ticket_list.filters import TicketFilters

FINISHED = tuple(sorted(sla.STOPPING))
CLOSED = tuple(s for s in FINISHED if s != "cancelled")


def sla_condition(state: str, now: datetime):
    """Tickets whose SLA is in `state` (on_track, at_risk, breached, met, paused).

    "breached" has two partial indexes (ix_ticket_sla_missed: the clock recorded a miss;
    ix_ticket_sla_running_due: running past its due time); a breached ticket that now waits on
    the customer stays breached (not paused).
    """
    running = Ticket.sla_running_since.is_not(None)
    if state == "breached":
        # On the row, so a planner may walk the list's order and stop at a page when breaches are
        # common, or read the two partial indexes when they are rare.
        return or_(Ticket.sla_met.is_(false()), and_(running, Ticket.sla_due_at < now))
    if state == "paused":
        return and_(Ticket.sla_paused.is_(true()), or_(Ticket.sla_met.is_(None), Ticket.sla_met.is_(true())))
    if state == "met":
        return and_(Ticket.sla_met.is_(true()), Ticket.sla_running_since.is_(None))
    # The at-risk moment is kept on the row in business time (app.sla), like the ticket page's badge.
    left = (
        Ticket.sla_at_risk_at <= now
        if state == "at_risk"
        else or_(Ticket.sla_at_risk_at > now, Ticket.sla_at_risk_at.is_(None))
    )
    in_time = db.select(Ticket.id).where(running, Ticket.sla_due_at >= now, Ticket.sla_met.is_(None), left)
    return Ticket.id.in_(in_time)


def sla_state_of(ticket: Ticket, now: datetime) -> str | None:
    """The state `sla_condition` puts a ticket in (None: no SLA clock)."""
    if ticket.sla_target_seconds is None:
        return None
    running = ticket.sla_running_since is not None
    if ticket.sla_met is False or (running and ticket.sla_due_at is not None and ticket.sla_due_at < now):
        return "breached"
    if ticket.sla_paused:
        return "paused"
    if not running:
        return "met" if ticket.sla_met else None
    at_risk = ticket.sla_at_risk_at is not None and now >= ticket.sla_at_risk_at
    return "at_risk" if at_risk else "on_track"


# What an unfinished ticket's instance holds: for a page's rows, correlated EXISTS on indexed
# ticket_id columns; as filters, `ticket.id IN (...)` driven from the (small) tables of waits.
def has_task():
    return exists().where(HumanTask.ticket_id == Ticket.id)


def has_incident():
    return exists().where(Incident.resolved_at.is_(None), Incident.ticket_id == Ticket.id)


def waits_message():
    return exists().where(MessageSubscription.ticket_id == Ticket.id)


def waits_timer():
    return (
        exists()
        .where(ProcessInstance.ticket_id == Ticket.id, Timer.instance_id == ProcessInstance.id)
        .correlate(Ticket)
    )


def state_condition(state: str):
    """Tickets in a derived state (filters.STATES); the precedence of `state_of`.

    The unfinished states are read from the partial index of unfinished tickets (`UNFINISHED`,
    ix_ticket_unfinished: a few percent of the tickets), each row's waits tested by ticket id
    (correlated EXISTS on indexed ticket_id columns): never from the tables of waits, which also
    hold the survey catches of closed tickets.
    """
    if state == "cancelled":
        return Ticket.status == "cancelled"
    if state == "closed":
        return Ticket.status.in_(CLOSED)
    if state == "incident":
        return and_(UNFINISHED, has_incident())
    calm = and_(UNFINISHED, not_(has_incident()))
    if state == "open":
        return and_(calm, or_(has_task(), and_(not_(waits_message()), not_(waits_timer()))))
    if state == "waiting_customer":
        return and_(calm, waits_message(), not_(has_task()))
    return and_(calm, waits_timer(), not_(has_task()), not_(waits_message()))


def state_of(status: str, task: bool, incident: bool, message: bool, timer: bool) -> str:
    """A ticket's derived state from its status and what its instance holds (see `state_condition`)."""
    if status == "cancelled":
        return "cancelled"
    if status in FINISHED:
        return "closed"
    if incident:
        return "incident"
    if task:
        return "open"
    if message:
        return "waiting_customer"
    return "waiting_timer" if timer else "open"


def _prefix(expression, prefix: str):
    """`expression` starts with `prefix` (lower case), readable from an index of `expression`:
    a LIKE on PostgreSQL (the index has text_pattern_ops), a range on SQLite (binary order)."""
    if db.engine.dialect.name == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return expression.like(escaped + "%", escape="\\")
    return and_(expression >= prefix, expression < prefix + "\U0010ffff")


def customer_ids_matching(text: str):
    """Customers whose name or e-mail starts with `text` (any case): a select of ids."""
    text = text.strip().lower()
    return db.select(Customer.id).where(
        or_(_prefix(func.lower(Customer.name), text), _prefix(func.lower(Customer.email), text))
    )


def definition_of(ticket_type: str, version: int):
    """The id of the BPMN definition `ticket_type` at `version`: a scalar subquery."""
    return (
        db.select(ProcessDefinition.id)
        .where(
            ProcessDefinition.key == ticket_type,
            ProcessDefinition.version == version,
            ProcessDefinition.kind == "bpmn",
        )
        .scalar_subquery()
    )


def field_ticket_ids(name: str, value: str):
    """Tickets whose start field `name` equals `value` (normalised as stored): a select of ids."""
    return db.select(TicketField.ticket_id).where(
        TicketField.name == name, TicketField.value == (field_value(value) or "")
    )


def filter_conditions(filters: TicketFilters, now: datetime, *, common: bool = False) -> list:
    """The WHERE clauses of `filters` on `ticket` (scope is the caller's).

    A start-field filter is `ticket.id IN (tickets with that value)`: read from ticket_field, each
    match looked up and sorted, right for a rare value (an order number); so is a customer prefix
    (`customer_id IN (customers named so)`, read from ix_ticket_customer_created). With `common`
    (the caller knows the filters match many tickets) they are tested on each row (EXISTS by primary
    key; the ticket's customer in the list of matching customers, `customer_id + 0` so that no
    planner reads the customer index instead) while the list's order is read from its index, and a
    page stops at its 50th match instead of sorting them all.
    """
    where = []
    for name in ("type", "status", "priority"):
        if getattr(filters, name):
            where.append(getattr(Ticket, name) == getattr(filters, name))
    if filters.version is not None:
        # The definition its instance runs (kept on the ticket by the engine): an index of its own.
        where.append(Ticket.definition_id == definition_of(filters.type, filters.version))
    if filters.state:
        where.append(state_condition(filters.state))
    if filters.team:
        # Its SLA team, or an open task of the team (a short list of ids). A team holds a large
        # share of the tickets, so the SLA team is tested on each row (coalesce: no index) while the
        # list's order is read from its own index, and a page stops at its 50th match instead of
        # sorting them all; counts come from ticket_count (app/ticket_list/counts.py).
        with_task = db.select(HumanTask.ticket_id).where(HumanTask.team == filters.team)
        where.append(or_(func.coalesce(Ticket.sla_team_key, "") == filters.team, Ticket.id.in_(with_task)))
    if filters.assignee_id is not None:
        where.append(
            Ticket.id.in_(db.select(HumanTask.ticket_id).where(HumanTask.assignee_id == filters.assignee_id))
        )
    if filters.sla:
        where.append(sla_condition(filters.sla, now))
    if filters.customer_id is not None:
        where.append(Ticket.customer_id == filters.customer_id)
    if filters.customer:
        customer = Ticket.customer_id + 0 if common else Ticket.customer_id
        where.append(customer.in_(customer_ids_matching(filters.customer)))
    if filters.created_from is not None:
        where.append(Ticket.created_at >= filters.created_from)
    if filters.created_to is not None:
        where.append(Ticket.created_at <= filters.created_to)
    if filters.closed_from is not None:
        where.append(Ticket.closed_at >= filters.closed_from)
    if filters.closed_to is not None:
        # Redundant but true (a ticket opens before it closes): the newest-first walk of the
        # created_at index starts at the end of the range instead of today.
        where += [Ticket.closed_at <= filters.closed_to, Ticket.created_at <= filters.closed_to]
    fields = [("order_number", filters.order_number)] if filters.order_number else []
    for name, value in [*fields, *filters.fields]:
        if common:
            # `= true`: PostgreSQL would make a bare EXISTS a join with every match and sort them;
            # compared, it stays a test of each row (a hash of the matches built once).
            found = exists().where(
                TicketField.ticket_id == Ticket.id,
                TicketField.name == name,
                TicketField.value == (field_value(value) or ""),
            )
            where.append(found == true())
        else:
            where.append(Ticket.id.in_(field_ticket_ids(name, value)))
    return where
