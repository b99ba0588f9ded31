"""Every path through the shipped workflows on plain SpiffWorkflow.

Each path runs with a recording service engine and a serialize/deserialize round trip after every
step, the way the engine stores an instance between commands. Timers are made due by writing a
past instant into the waiting task (what the engine's `fire_timer` does).
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent

from tests.processes.shared import (
    INSTRUCTIONS,
    OPERATORS,
    PROCESSES,
    SERIALIZER,
    flows,
    form_names,
    load_form,
    parse_spec,
    xml,
)


# ---------------------------------------------------------------------------- paths
class RecordingEngine(PythonScriptEngine):
    """Stock script engine whose service calls return plausible handler results and are recorded."""

    def __init__(self):
        super().__init__(environment=TaskDataEnvironment())
        self.calls = []

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        params = {name: param["value"] for name, param in operation_params.items()}
        required, optional, result = OPERATORS[operation_name]
        assert required <= set(params) <= required | optional, task.task_spec.name
        self.calls.append((task.task_spec.name, operation_name, params))
        return json.dumps(result(params, len(self.calls)))


@dataclass
class User:
    task: str
    lane: str
    form: dict
    calls: list = field(default_factory=list)


@dataclass
class Message:
    """A message arrives for the task `waiting` (a catch event or an event-based gateway)."""

    waiting: str
    name: str
    payload: dict
    calls: list = field(default_factory=list)


@dataclass
class Timer:
    """The timer of the task `waiting` (a catch event, boundary event or event-based gateway) comes due."""

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


CUSTOMER = {
    "id": 7,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
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
CUSTOMER_REPLY = Message("wait_reply_or_reminder", "customer_reply", REPLY, ["set_status_in_progress"])
REMINDER = Timer("wait_reply_or_reminder", ["notify_reminder"])
REPLY_AFTER_REMINDER = Message("wait_reply_or_deadline", "customer_reply", REPLY, ["set_status_in_progress"])
NO_RESPONSE = Timer("wait_reply_or_deadline", ["notify_no_response", "close_no_response"])

# the feedback loop (every process, after the ticket is closed)
FEEDBACK_DUE = Timer("wait_feedback_delay", ["request_feedback"])
FEEDBACK_REMINDER = Timer("wait_feedback", ["remind_feedback"])
FOLLOW_UP = User("follow_up", "customer-success", {"contacted": True, "outcome": "resolved", "notes": "Apologised."})
SATISFIED = [FEEDBACK_DUE, Message("wait_feedback", "feedback_received", PRAISE)]
UNHAPPY = [FEEDBACK_DUE, Message("wait_feedback", "feedback_received", DISAPPOINTED), FOLLOW_UP]
ANSWERED_AFTER_REMINDER = [FEEDBACK_DUE, FEEDBACK_REMINDER, Message("wait_feedback_again", "feedback_received", LUKEWARM)]
UNHAPPY_AFTER_REMINDER = [
    FEEDBACK_DUE, FEEDBACK_REMINDER, Message("wait_feedback_again", "feedback_received", DISAPPOINTED), FOLLOW_UP]
SILENT = [FEEDBACK_DUE, FEEDBACK_REMINDER, Timer("wait_feedback_again")]

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
RECEIVE = {"item_received": True, "condition": "damaged"}
REFUNDED = User(
    "receive_item", "returns", RECEIVE, ["restock_items", "issue_refund", "notify_refund", "close_refunded"]
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
    ["assign_credit_balance", "notify_approval", "close_approved"],
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
    "first_response_overdue", ["raise_priority", "notify_support_lead", "notify_customer_escalated"])
LEAD_RESPONDS = User("lead_initial_response", "support", {"response": "Our apologies, I take care of it."}, RESPONDED)
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
    path("return", "rejected", RETURN_START, ["set_status_new"], [REJECT, *SATISFIED], ["new", "closed"], "rejected"),
    path(
        "return",
        "refunded_then_unhappy",
        RETURN_START,
        ["set_status_new"],
        [ACCEPT, REFUNDED, *UNHAPPY],
        ["new", "awaiting_return", "closed"],
        "refunded",
        {"issue_refund": {"amount": 59.9}, "restock_items": {"items": ITEMS}, "request_feedback": {"reminder": False}},
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
        {"schedule_reminder": {"days": 2, "team": "returns"}, "schedule_reply_deadline": {"days": 7, "team": "returns"}},
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
        [ASK, CUSTOMER_REPLY, ASK, REMINDER, REPLY_AFTER_REMINDER, ACCEPT_CREDIT_NOTE, CREDITED, *UNHAPPY_AFTER_REMINDER],
        ["new", "awaiting_customer", "in_progress", "awaiting_customer", "in_progress", "awaiting_return", "closed"],
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
    path("credit", "denied_then_unhappy", CREDIT_START, ["set_status_new"], [DATA_OK, DENY, *UNHAPPY],
         ["new", "closed"], "denied"),
    path(
        "credit",
        "missing_data_then_approved",
        CREDIT_START,
        ["set_status_new"],
        [DATA_MISSING, CUSTOMER_REPLY, DATA_OK, APPROVE, *ANSWERED_AFTER_REMINDER],
        ["new", "missing_data", "in_progress", "closed"],
        "approved",
        {"schedule_reminder": {"days": 2, "team": "credit"}, "schedule_reply_deadline": {"days": 7, "team": "credit"}},
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
        {"notify_support_lead": {"team": "support"},
         "remind_reviewer": {"team": "customer-success", "include_assignee": True}},
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


def round_trip(workflow, engine):
    restored = SERIALIZER.deserialize_json(SERIALIZER.serialize_json(workflow))
    restored.script_engine = engine
    return restored


def new_calls(engine, seen):
    return [name for name, _, _ in engine.calls[seen:]]


def waiting_tasks(workflow):
    return workflow.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent)


def make_due(task):
    """Write a past instant as the timer's due time, as the engine's fire_timer does."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value["next"] = past
    else:
        task.internal_data["event_value"] = past


def message_definition(task, name):
    spec = task.task_spec
    definitions = spec.event_definition.event_definitions if isinstance(spec.event_definition, MultipleEventDefinition) \
        else [spec.event_definition]
    [definition] = [d for d in definitions if isinstance(d, MessageEventDefinition) and d.name == name]
    return definition


def run(path):
    """Run one path step by step; return the engine (with its calls) and the finished workflow."""
    _, spec = parse_spec(path.process)
    forms = form_names(path.process)
    start_form = forms[next(ts.name for ts in spec.task_specs.values() if type(ts).__name__ == "StartEvent")]
    Draft202012Validator(load_form(start_form)).validate(path.start)
    engine = RecordingEngine()
    workflow = BpmnWorkflow(spec, script_engine=engine)
    workflow.task_tree.data.update(
        ticket_id=101,
        ticket_type=path.process,
        subject="About my order",
        priority="normal",
        customer=dict(CUSTOMER),
        feedback_delay="P1D",
        **path.start,
    )
    workflow.do_engine_steps()
    workflow = round_trip(workflow, engine)
    assert new_calls(engine, 0) == path.start_calls
    for step in path.steps:
        seen = len(engine.calls)
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        waiting = waiting_tasks(workflow)
        boundaries = {t.task_spec.name for t in waiting if isinstance(t.task_spec, BoundaryEvent)}
        if isinstance(step, User):
            assert [t.task_spec.name for t in ready] == [step.task], (step, ready)
            assert {t.task_spec.name for t in waiting} == boundaries, (step, waiting)
            task = ready[0]
            assert task.task_spec.lane == step.lane
            INSTRUCTIONS.from_string(task.task_spec.extensions["instructionsForEndUser"]).render(task.data)
            Draft202012Validator(load_form(forms[step.task])).validate(step.form)
            task.set_data(**step.form)
            task.run()
        else:
            [task] = [t for t in waiting if t.task_spec.name == step.waiting] or [None]
            assert task is not None, (step, [t.task_spec.name for t in waiting])
            if step.waiting not in boundaries:
                assert not ready and [t.task_spec.name for t in waiting] == [step.waiting], (step, waiting)
            if isinstance(step, Message):
                workflow.send_event(BpmnEvent(message_definition(task, step.name), step.payload, {}))
            else:
                make_due(task)
                workflow.refresh_timers()
        workflow.do_engine_steps()
        workflow = round_trip(workflow, engine)
        assert new_calls(engine, seen) == step.calls, (step, engine.calls[seen:])
    assert workflow.is_completed()
    return engine, workflow


def taken_flows(process, workflow):
    """Flows between completed elements (SpiffWorkflow's boundary-event split and join are skipped)."""
    pairs = set()
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        parent = task.parent
        while parent is not None and getattr(parent.task_spec, "bpmn_id", None) is None:
            parent = parent.parent
        if parent is not None:
            pairs.add((parent.task_spec.name, task.task_spec.name))
    return {f.get("id") for f in flows(xml(process)) if (f.get("sourceRef"), f.get("targetRef")) in pairs}


@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p.process}-{p.name}")
def test_path_sets_statuses_and_calls_services_in_order(path):
    engine, workflow = run(path)
    statuses = [params for _, operator, params in engine.calls if operator == "ticket.set_status"]
    assert [params["status"] for params in statuses] == path.statuses
    assert statuses[-1].get("resolution") == path.resolution
    assert all("resolution" not in params for params in statuses[:-1])
    for task, expected in path.params.items():
        [params] = [params for name, _, params in engine.calls if name == task]
        assert {k: params[k] for k in expected} == expected
    for _, operator, params in engine.calls:
        if operator in ("notify.customer", "escalation.notify_team"):
            assert params["subject"] and "{" not in params["subject"]
            assert "{" not in params["body"]
        if operator == "notify.customer":
            assert params["body"].startswith("Dear Ada Lovelace,")
    replies = [step.payload for step in path.steps if isinstance(step, Message) and step.name == "customer_reply"]
    if replies:
        assert workflow.data["customer_reply"] == replies[-1]
    answers = [step.payload for step in path.steps if isinstance(step, Message) and step.name == "feedback_received"]
    if answers:
        assert workflow.data["feedback"] == answers[-1]


def test_a_ticket_closed_for_no_response_asks_for_no_feedback():
    for p in (p for p in PATHS if p.resolution == "no_response"):
        engine, _ = run(p)
        assert "feedback.request" not in {operator for _, operator, _ in engine.calls}


@pytest.mark.parametrize("process", PROCESSES)
def test_the_paths_together_take_every_sequence_flow(process):
    taken = set()
    for path in (p for p in PATHS if p.process == process):
        taken |= taken_flows(process, run(path)[1])
    assert {f.get("id") for f in flows(xml(process))} - taken == set()
