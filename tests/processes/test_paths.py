"""Every path through the shipped workflows, on the real engine.

Each path runs through the engine's commands (`start_process`, `complete_task`, `deliver_message`)
and the worker (`drain()` runs the service-task jobs with the real handlers and fires due timers);
timers come due by moving the `clock`, never by touching the instance. After every step the
stored instance passes SpiffWorkflow's save-restore check (tests/restore.py). The handlers are
wrapped to record which element called which operator with which parameters.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise as pairs_of

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from app.engine import (
    complete_task,
    deliver_message,
    instance_of_ticket,
    start_process,
    task_data,
    waiting_of,
)
from app.extensions import db
from app.handlers import HANDLERS
from app.models import FeedbackRequest, HistoryEvent, HumanTask, Incident, ProcessInstance, Ticket
from app.worker import drain
from tests.factories import deploy_shipped, make_customer, make_user, set_limits
from tests.processes.shared import (
    OPERATORS,
    PROCESSES,
    catch_events,
    element,
    flow_nodes,
    flows,
    instructions,
    listeners,
    xml,
)
from tests.restore import assert_restores_unchanged

INSTRUCTIONS = SandboxedEnvironment(undefined=StrictUndefined)


# ---------------------------------------------------------------------------- paths
@dataclass
class User:
    """The one open task is `task` in the team `lane`; complete it with `form`."""

    task: str
    lane: str
    form: dict
    calls: list = field(default_factory=list)
    by: str | None = None  # a second approver (four eyes): not the agent, who may not do the task


@dataclass
class Message:
    """A message `name` arrives for the catch event `waiting`."""

    waiting: str
    name: str
    payload: dict
    calls: list = field(default_factory=list)


@dataclass
class Timer:
    """The timer of the catch or boundary event `waiting` comes due: the clock moves to it."""

    waiting: str
    calls: list = field(default_factory=list)


@dataclass
class ProcessPath:
    process: str
    name: str
    start: dict
    start_calls: list
    steps: list
    statuses: list
    resolution: str
    params: dict = field(default_factory=dict)


PROFILE = {
    "tier": "gold",
    "tenure_months": 38,
    "order_count": 21,
    "on_time_payment_ratio": 0.97,
    "open_balance": 120.5,
}
ITEMS = [{"sku": "KET-1", "qty": 1}, {"sku": "MUG-2", "qty": 2}]
RETURN_START = {
    "order_number": "A-1001",
    "items": ITEMS,
    "reason": "damaged",
    "amount": 59.9,
    "preferred_resolution": "refund",
    "description": "The kettle leaks.",
}
CREDIT_START = {
    "requested_amount": 3000.0,
    "purpose": "Stock for the spring season",
    "company_name": "Analytical Engines Ltd",
}
GENERAL_START = {"question": "Do you ship to Norway?", "category": "delivery"}
COMPLAINT_START = {"description": "The courier was rude.", "severity": "high"}
REPLY = {"message": "The receipt is attached."}
PRAISE = {"rating": 5, "comment": "Quick and friendly."}
LUKEWARM = {"rating": 4, "comment": ""}
DISAPPOINTED = {"rating": 2, "comment": "It took three weeks."}

# waiting for the customer (return and credit)
ASKED = ["schedule_reminder", "schedule_reply_deadline"]
CUSTOMER_REPLY = Message("wait_customer_reply", "customer_reply", REPLY, ["set_status_in_progress"])
REMINDER = Timer("reminder_due", ["notify_reminder"])
REPLY_AFTER_REMINDER = Message("reply_after_reminder", "customer_reply", REPLY, ["set_status_in_progress"])
NO_RESPONSE = Timer("reply_deadline_passed", ["notify_no_response", "close_no_response"])

# the feedback loop (every process, after the ticket is closed)
FEEDBACK_DUE = Timer("wait_feedback_delay", ["request_feedback"])
FEEDBACK_REMINDER = Timer("feedback_reminder_due", ["remind_feedback"])
FOLLOW_UP = User(
    "follow_up", "customer-success", {"contacted": True, "outcome": "resolved", "notes": "Apologised."}
)
SATISFIED = [FEEDBACK_DUE, Message("feedback_arrived", "feedback_received", PRAISE)]
UNHAPPY = [FEEDBACK_DUE, Message("feedback_arrived", "feedback_received", DISAPPOINTED), FOLLOW_UP]
ANSWERED_AFTER_REMINDER = [
    FEEDBACK_DUE,
    FEEDBACK_REMINDER,
    Message("feedback_arrived_late", "feedback_received", LUKEWARM),
]
UNHAPPY_AFTER_REMINDER = [
    FEEDBACK_DUE,
    FEEDBACK_REMINDER,
    Message("feedback_arrived_late", "feedback_received", DISAPPOINTED),
    FOLLOW_UP,
]
SILENT = [FEEDBACK_DUE, FEEDBACK_REMINDER, Timer("feedback_deadline")]

ACCEPT = User(
    "review_request",
    "returns",
    {"decision": "accept", "resolution": "refund"},
    ["set_status_awaiting_return", "notify_return_instructions"],
)
ACCEPT_CREDIT_NOTE = User(
    "review_request",
    "returns",
    {"decision": "accept", "resolution": "credit_note"},
    ["set_status_awaiting_return", "notify_return_instructions"],
)
REJECT = User(
    "review_request",
    "returns",
    {"decision": "reject", "rejection_reason": "Used goods."},
    ["notify_rejection", "close_rejected"],
)
ASK = User(
    "review_request",
    "returns",
    {"decision": "more_info", "question": "Photo of the damage?"},
    ["set_status_awaiting_customer", "notify_more_info", *ASKED],
)
RECEIVE = {"item_received": True, "condition": "damaged", "refund_amount": 59.9}
REFUNDED = User(
    "receive_item",
    "returns",
    RECEIVE,
    ["restock_items", "check_refund_approval", "issue_refund", "notify_refund", "close_refunded"],
)
REFUND_ABOVE_ORDER = User(
    "receive_item",
    "returns",
    {**RECEIVE, "refund_amount": 80.0},
    ["restock_items", "check_refund_approval"],
)
REFUND_APPROVED_LOWER = User(
    "approve_refund",
    "returns",
    {"approval_decision": "approve", "refund_amount": 70.0, "approval_reason": "Shipping included."},
    ["issue_refund", "notify_refund", "close_refunded"],
    by="lead",
)
REFUND_DECLINED = User(
    "approve_refund",
    "returns",
    {"approval_decision": "reject", "refund_amount": 80.0, "approval_reason": "The order was 59.90."},
    ["notify_refund_declined", "close_refund_declined"],
    by="lead",
)
CREDITED = User(
    "receive_item",
    "returns",
    RECEIVE,
    ["restock_items", "issue_credit_note", "notify_credit_note", "close_credit_note"],
)
DATA_OK = User("review_credit_data", "credit", {"data_complete": True}, ["assess_credit"])
DATA_MISSING = User(
    "review_credit_data",
    "credit",
    {"data_complete": False, "missing_fields": "Your tax id."},
    ["set_status_missing_data", "notify_missing_data", *ASKED],
)
APPROVE = User(
    "decide_credit",
    "credit",
    {"decision": "approve", "approved_amount": 2000.0},
    ["check_credit_approval", "assign_credit_balance", "notify_approval", "close_approved"],
)
APPROVE_ABOVE_PROPOSAL = User(
    "decide_credit", "credit", {"decision": "approve", "approved_amount": 5000.0}, ["check_credit_approval"]
)
LEAD_APPROVES_LOWER = User(
    "approve_credit",
    "credit",
    {"approval_decision": "approve", "approved_amount": 4500.0},
    ["assign_credit_balance", "notify_approval", "close_approved"],
    by="lead",
)
LEAD_REJECTS = User(
    "approve_credit",
    "credit",
    {"approval_decision": "reject", "approved_amount": 5000.0, "approval_reason": "Too high for the score."},
    ["notify_denial", "close_denied"],
    by="lead",
)
DENY = User(
    "decide_credit",
    "credit",
    {"decision": "deny", "notes": "Too many open invoices."},
    ["notify_denial", "close_denied"],
)
NOT_YET = User("answer_question", "support", {"answer": "Checking", "information_given": False})
ANSWER = User(
    "answer_question",
    "support",
    {"answer": "Yes, in 3 days.", "information_given": True},
    ["notify_answer", "close_answered"],
)
COMPLAINT_OPENED = ["set_status_new", "set_status_in_progress", "first_response_deadline"]
RESPONDED = ["notify_initial_response", "schedule_review"]
RESPOND = User("initial_response", "support", {"response": "We are sorry."}, RESPONDED)
FIRST_RESPONSE_OVERDUE = Timer(
    "first_response_overdue", ["raise_priority", "notify_support_lead", "notify_customer_escalated"]
)
LEAD_RESPONDS = User(
    "lead_initial_response", "support", {"response": "Our apologies, I take care of it."}, RESPONDED
)
REVIEW_OVERDUE = Timer("review_overdue", ["remind_reviewer"])
REVIEW = User("review_complaint", "customer-success", {"findings": "The courier confirmed it."})


def resolve(outcome):
    return User(
        "resolve_complaint",
        "customer-success",
        {"resolution_summary": "We changed the courier.", "outcome": outcome},
        ["notify_resolution", "close_complaint"],
    )


def path(process, name, start, start_calls, steps, statuses, resolution, params=None):
    return ProcessPath(process, name, start, start_calls, steps, statuses, resolution, params or {})


PATHS = [
    path(
        "return",
        "rejected",
        RETURN_START,
        ["set_status_new"],
        [REJECT, *SATISFIED],
        ["new", "closed"],
        "rejected",
    ),
    path(
        "return",
        "refunded_then_unhappy",
        RETURN_START,
        ["set_status_new"],
        [ACCEPT, REFUNDED, *UNHAPPY],
        ["new", "awaiting_return", "closed"],
        "refunded",
        {
            "issue_refund": {"amount": 59.9},
            "restock_items": {"items": ITEMS},
            "request_feedback": {"reminder": False},
        },
    ),
    path(
        "return",
        "credit_note_then_feedback_after_reminder",
        {**RETURN_START, "preferred_resolution": "credit_note"},
        ["set_status_new"],
        [ACCEPT_CREDIT_NOTE, CREDITED, *ANSWERED_AFTER_REMINDER],
        ["new", "awaiting_return", "closed"],
        "credit_note",
        {"issue_credit_note": {"amount": 59.9}, "remind_feedback": {"reminder": True}},
    ),
    path(
        "return",
        "more_info_then_rejected_without_feedback",
        RETURN_START,
        ["set_status_new"],
        [ASK, CUSTOMER_REPLY, REJECT, *SILENT],
        ["new", "awaiting_customer", "in_progress", "closed"],
        "rejected",
        {
            "schedule_reminder": {"days": 2, "team": "returns"},
            "schedule_reply_deadline": {"days": 7, "team": "returns"},
        },
    ),
    path(
        "return",
        "refund_above_the_order_amount_approved_lower",
        RETURN_START,
        ["set_status_new"],
        [ACCEPT, REFUND_ABOVE_ORDER, REFUND_APPROVED_LOWER, *SATISFIED],
        ["new", "awaiting_return", "closed"],
        "refunded",
        {
            "issue_refund": {"amount": 70.0},
            "check_refund_approval": {"amount": 80.0, "decided_in": "receive_item"},
        },
    ),
    path(
        "return",
        "refund_above_the_order_amount_declined",
        RETURN_START,
        ["set_status_new"],
        [ACCEPT, REFUND_ABOVE_ORDER, REFUND_DECLINED, *SATISFIED],
        ["new", "awaiting_return", "closed"],
        "refund_declined",
    ),
    path(
        "return",
        "more_info_then_refunded",
        RETURN_START,
        ["set_status_new"],
        [ASK, CUSTOMER_REPLY, ACCEPT, REFUNDED, *SATISFIED],
        ["new", "awaiting_customer", "in_progress", "awaiting_return", "closed"],
        "refunded",
    ),
    path(
        "return",
        "reply_after_reminder_then_credit_note",
        RETURN_START,
        ["set_status_new"],
        [
            ASK,
            CUSTOMER_REPLY,
            ASK,
            REMINDER,
            REPLY_AFTER_REMINDER,
            ACCEPT_CREDIT_NOTE,
            CREDITED,
            *UNHAPPY_AFTER_REMINDER,
        ],
        [
            "new",
            "awaiting_customer",
            "in_progress",
            "awaiting_customer",
            "in_progress",
            "awaiting_return",
            "closed",
        ],
        "credit_note",
    ),
    path(
        "return",
        "no_response",
        RETURN_START,
        ["set_status_new"],
        [ASK, REMINDER, NO_RESPONSE],
        ["new", "awaiting_customer", "closed"],
        "no_response",
    ),
    path(
        "credit",
        "approved",
        CREDIT_START,
        ["set_status_new"],
        [DATA_OK, APPROVE, *SATISFIED],
        ["new", "closed"],
        "approved",
        {"assign_credit_balance": {"amount": 2000.0}},
    ),
    path(
        "credit",
        "above_the_proposal_approved_lower_by_the_lead",
        CREDIT_START,
        ["set_status_new"],
        [DATA_OK, APPROVE_ABOVE_PROPOSAL, LEAD_APPROVES_LOWER, *SATISFIED],
        ["new", "closed"],
        "approved",
        {"assign_credit_balance": {"amount": 4500.0}},
    ),
    path(
        "credit",
        "above_the_proposal_rejected_by_the_lead",
        CREDIT_START,
        ["set_status_new"],
        [DATA_OK, APPROVE_ABOVE_PROPOSAL, LEAD_REJECTS, *SATISFIED],
        ["new", "closed"],
        "denied",
    ),
    path(
        "credit",
        "denied_then_unhappy",
        CREDIT_START,
        ["set_status_new"],
        [DATA_OK, DENY, *UNHAPPY],
        ["new", "closed"],
        "denied",
    ),
    path(
        "credit",
        "missing_data_then_approved",
        CREDIT_START,
        ["set_status_new"],
        [DATA_MISSING, CUSTOMER_REPLY, DATA_OK, APPROVE, *ANSWERED_AFTER_REMINDER],
        ["new", "missing_data", "in_progress", "closed"],
        "approved",
        {
            "schedule_reminder": {"days": 2, "team": "credit"},
            "schedule_reply_deadline": {"days": 7, "team": "credit"},
        },
    ),
    path(
        "credit",
        "missing_data_after_reminder_then_denied",
        CREDIT_START,
        ["set_status_new"],
        [DATA_MISSING, REMINDER, REPLY_AFTER_REMINDER, DATA_OK, DENY, *SILENT],
        ["new", "missing_data", "in_progress", "closed"],
        "denied",
    ),
    path(
        "credit",
        "no_response",
        CREDIT_START,
        ["set_status_new"],
        [DATA_MISSING, REMINDER, NO_RESPONSE],
        ["new", "missing_data", "closed"],
        "no_response",
    ),
    path(
        "general",
        "answered",
        GENERAL_START,
        ["set_status_new", "set_status_in_progress"],
        [ANSWER, *SATISFIED],
        ["new", "in_progress", "closed"],
        "answered",
    ),
    path(
        "general",
        "answered_after_more_work_then_unhappy",
        GENERAL_START,
        ["set_status_new", "set_status_in_progress"],
        [NOT_YET, NOT_YET, ANSWER, *UNHAPPY],
        ["new", "in_progress", "closed"],
        "answered",
    ),
    path(
        "general",
        "answered_without_feedback",
        GENERAL_START,
        ["set_status_new", "set_status_in_progress"],
        [ANSWER, *SILENT],
        ["new", "in_progress", "closed"],
        "answered",
    ),
    path(
        "general",
        "answered_feedback_after_reminder",
        GENERAL_START,
        ["set_status_new", "set_status_in_progress"],
        [ANSWER, *ANSWERED_AFTER_REMINDER],
        ["new", "in_progress", "closed"],
        "answered",
    ),
    path(
        "complaint",
        "satisfactory",
        COMPLAINT_START,
        COMPLAINT_OPENED,
        [RESPOND, REVIEW, resolve("satisfactory"), *SATISFIED],
        ["new", "in_progress", "closed"],
        "satisfactory",
        {"schedule_review": {"days": 2, "team": "customer-success"}},
    ),
    path(
        "complaint",
        "first_response_overdue_and_review_reminded",
        COMPLAINT_START,
        COMPLAINT_OPENED,
        [FIRST_RESPONSE_OVERDUE, LEAD_RESPONDS, REVIEW_OVERDUE, REVIEW, resolve("unsatisfactory"), *UNHAPPY],
        ["new", "in_progress", "closed"],
        "unsatisfactory",
        {
            "notify_support_lead": {"team": "support"},
            "remind_reviewer": {"team": "customer-success", "include_assignee": True},
        },
    ),
    path(
        "complaint",
        "feedback_after_reminder",
        COMPLAINT_START,
        COMPLAINT_OPENED,
        [RESPOND, REVIEW, resolve("satisfactory"), *ANSWERED_AFTER_REMINDER],
        ["new", "in_progress", "closed"],
        "satisfactory",
    ),
    path(
        "complaint",
        "without_feedback",
        COMPLAINT_START,
        COMPLAINT_OPENED,
        [RESPOND, REVIEW, resolve("unsatisfactory"), *SILENT],
        ["new", "in_progress", "closed"],
        "unsatisfactory",
    ),
]


# ---------------------------------------------------------------------------- the runner
@dataclass
class Run:
    """What one path did: the service calls (element, operator, parameters) in order, the ticket,
    its instance, and the (source, target) pairs of elements it passed one after the other."""

    calls: list
    ticket: Ticket
    instance: ProcessInstance
    pairs: set


@pytest.fixture
def recorded(monkeypatch):
    """The real handlers, each call recorded as (element id, operator, parameters)."""
    calls = []

    def recording(operator, handler):
        def wrapper(params, ctx):
            element_id = ctx.element_id
            required, optional = OPERATORS[operator]
            assert required <= set(params) <= required | optional, (element_id, params)
            calls.append((element_id, operator, dict(params)))
            return handler(params, ctx)

        return wrapper

    for operator, handler in list(HANDLERS.items()):
        monkeypatch.setitem(HANDLERS, operator, recording(operator, handler))
    return calls


@pytest.fixture
def walk(app, clock, recorded):
    """run(path): the path through the engine, step by step, on the shipped workflows."""
    deploy_shipped()
    agent = make_user(
        "alice", "agent", teams=tuple(sorted({"returns", "credit", "support", "customer-success"})), lead=True
    )
    customer = make_customer(name="Ada Lovelace", **PROFILE)
    # a second approver outside the teams: alice is their only lead, so an approval she may not
    # do (four eyes) waits unassigned in the team queue
    second = make_user("max", "manager")
    set_limits({"agent": 1000, "lead": 10000})
    return lambda p: run(p, agent, customer, recorded, clock, second)


def _open_tasks(ticket_id):
    db.session.expire_all()
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalars().all()


PASSED = ("element_completed", "task_completed", "service_completed", "timer_fired", "message_delivered")


def passed_pairs(instance_id: int, tree) -> set:
    """(source, target) of elements the instance passed one right after the other, read from the
    engine's history (the shipped workflows run one token; a catch behind an event-based gateway
    is caught by the gateway's waiting task, so the gateway is passed just before it)."""
    ids = {el.get("id") for el in flow_nodes(tree) if el.get("triggeredByEvent") != "true"}
    gateway_of = {
        f.get("targetRef"): f.get("sourceRef")
        for f in flows(tree)
        if element(tree, f.get("sourceRef")).tag.endswith("eventBasedGateway")
    }
    rows = db.session.execute(
        db.select(HistoryEvent.kind, HistoryEvent.element_id)
        .where(HistoryEvent.instance_id == instance_id, HistoryEvent.kind.in_(PASSED))
        .order_by(HistoryEvent.id)
    ).all()
    passed = []
    for kind, element_id in rows:
        if element_id not in ids:
            continue
        if kind in ("timer_fired", "message_delivered") and element_id in gateway_of:
            passed.append(gateway_of[element_id])
        if not passed or passed[-1] != element_id:
            passed.append(element_id)
    return set(pairs_of(passed))


def together(tree, catch):
    """The catches waiting at the same time as `catch`: all targets of its event-based gateway."""
    [source] = [f.get("sourceRef") for f in flows(tree) if f.get("targetRef") == catch]
    if not element(tree, source).tag.endswith("eventBasedGateway"):
        return {catch}
    return {f.get("targetRef") for f in flows(tree) if f.get("sourceRef") == source}


def run(p: ProcessPath, agent, customer, calls, clock, second=None) -> Run:
    tree = xml(p.process)
    catches = catch_events(tree)
    boundaries = {eid for eid in catches if element(tree, eid).tag.endswith("boundaryEvent")}
    listening = listeners(tree)  # event subprocesses' message starts: they wait all along
    first = len(calls)
    ticket, instance = start_process(p.process, customer.id, "About my order", p.start, actor="test")
    ticket_id, instance_id = ticket.id, instance.id
    drain()
    assert_restores_unchanged(instance_id)
    assert [name for name, _, _ in calls[first:]] == p.start_calls
    for step in p.steps:
        seen = len(calls)
        tasks = _open_tasks(ticket_id)
        waiting = waiting_of(instance_id)
        waiting_ids = {w["element_id"] for w in waiting["messages"] + waiting["timers"]}
        assert listening <= waiting_ids, (step, waiting)
        waiting_ids -= listening
        if isinstance(step, User):
            assert [t.name for t in tasks] == [step.task], (step, [t.name for t in tasks])
            assert waiting_ids <= boundaries, (step, waiting)  # only the task's own deadlines wait
            task = tasks[0]
            assert task.team == step.lane
            assert task.assignee_id == (None if step.by else agent.id)
            source = instructions(element(tree, step.task))
            INSTRUCTIONS.from_string(source).render(task_data(task.id))  # every name it reads is there
            assert task.instructions and "{{" not in task.instructions and "{%" not in task.instructions
            complete_task(task.id, step.form, second if step.by else agent)
            drain()
        else:
            assert step.waiting in waiting_ids | listening, (step, waiting)
            if step.waiting not in boundaries | listening:
                assert tasks == [], (step, [t.name for t in tasks])
                assert waiting_ids == together(tree, step.waiting), (step, waiting)
            if isinstance(step, Message):
                assert {"name": step.name, "element_id": step.waiting} in waiting["messages"]
                caught = deliver_message(ticket_id, step.name, step.payload, actor="customer")
                assert caught == step.waiting
                drain()
            else:
                [due] = [
                    datetime.fromisoformat(t["due_at"])
                    for t in waiting["timers"]
                    if t["element_id"] == step.waiting
                ]
                others = [t for t in waiting["timers"] if t["element_id"] != step.waiting]
                assert all(datetime.fromisoformat(t["due_at"]) > due for t in others), (step, waiting)
                clock.move_to(due)
                drain()
                assert (
                    step.waiting not in {t["element_id"] for t in waiting_of(instance_id)["timers"]}
                    or catches[step.waiting][1] == "timeCycle"
                )
        assert_restores_unchanged(instance_id)
        assert [name for name, _, _ in calls[seen:]] == step.calls, (step, calls[seen:])
    db.session.expire_all()
    assert db.session.execute(db.select(Incident)).first() is None
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance.status == "completed"
    assert _open_tasks(ticket_id) == [] and waiting_of(instance_id) == {"messages": [], "timers": []}
    return Run(calls[first:], db.session.get(Ticket, ticket_id), instance, passed_pairs(instance_id, tree))


def taken_flows(process, pairs):
    return {f.get("id") for f in flows(xml(process)) if (f.get("sourceRef"), f.get("targetRef")) in pairs}


# ---------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p.process}-{p.name}")
def test_path_sets_statuses_and_calls_services_in_order(walk, path):
    done = walk(path)
    statuses = [params for _, operator, params in done.calls if operator == "ticket.set_status"]
    assert [params["status"] for params in statuses] == path.statuses
    assert statuses[-1].get("resolution") == path.resolution
    assert all("resolution" not in params for params in statuses[:-1])
    assert (done.ticket.status, done.ticket.resolution) == (path.statuses[-1], path.resolution)
    for task, expected in path.params.items():
        [params] = [params for name, _, params in done.calls if name == task]
        assert {k: params[k] for k in expected} == expected
    for _, operator, params in done.calls:
        if operator in ("notify.customer", "escalation.notify_team"):
            assert params["subject"] and "{" not in params["subject"]
            assert "{" not in params["body"]
        if operator == "notify.customer":
            assert params["body"].startswith("Dear Ada Lovelace,")
    data = assert_restores_unchanged(done.instance.id)["data"]
    replies = [
        step.payload for step in path.steps if isinstance(step, Message) and step.name == "customer_reply"
    ]
    if replies:
        assert data["customer_reply"] == replies[-1]
    answers = [
        step.payload for step in path.steps if isinstance(step, Message) and step.name == "feedback_received"
    ]
    if answers:
        assert data["feedback"] == answers[-1]


def test_a_ticket_closed_for_no_response_asks_for_no_feedback(walk):
    for p in (p for p in PATHS if p.resolution == "no_response"):
        done = walk(p)
        assert "feedback.request" not in {operator for _, operator, _ in done.calls}
        assert (
            db.session.execute(
                db.select(FeedbackRequest).where(FeedbackRequest.ticket_id == done.ticket.id)
            ).first()
            is None
        )


@pytest.mark.parametrize("process", [p for p in PROCESSES if p not in ("onboarding", "order")])
def test_the_paths_together_take_every_sequence_flow(walk, process):  # those two: test_service_flow_paths.py
    taken = set()
    for p in (p for p in PATHS if p.process == process):
        taken |= taken_flows(process, walk(p).pairs)
    assert {f.get("id") for f in flows(xml(process))} - taken == set()


def test_the_instance_of_a_path_is_the_ticket_s_instance(walk):
    done = walk(PATHS[0])
    assert instance_of_ticket(done.ticket.id).id == done.instance.id
    assert (
        done.instance.ended_at is not None
        and done.instance.ended_at >= done.instance.created_at + timedelta(days=1)
    )
