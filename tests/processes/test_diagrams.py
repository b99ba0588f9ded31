"""The shipped workflows: diagrams, forms, diagram interchange, and every path through them.

Each path runs on plain SpiffWorkflow with a recording service engine and a serialize/deserialize
round trip after every step, the way the engine stores an instance between commands. Timers are
made due by writing a past instant into the waiting task (what the engine's `fire_timer` does).
"""

import ast
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent, EventBasedGateway
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ["return", "credit", "general", "complaint"]
TEAMS = {"returns", "credit", "support", "customer-success"}
ENGINE_FIELDS = {"ticket_id", "ticket_type", "subject", "priority", "customer", "feedback_delay"}
SHARED_FORMS = "feedback"  # forms/feedback_*.json: the feedback loop every process ends with
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODES = (
    "startEvent endEvent userTask serviceTask exclusiveGateway parallelGateway eventBasedGateway"
    " intermediateCatchEvent boundaryEvent"
).split()
SAFE_METHODS = {"get", "lower", "upper", "strip", "replace", "title", "capitalize"}
SAFE_NODES = tuple(
    getattr(ast, name)
    for name in (
        "Expression BoolOp And Or UnaryOp Not USub BinOp Add Sub Mult Div Compare Eq NotEq Lt LtE Gt GtE In"
        " NotIn IfExp Call Name Load Constant Subscript JoinedStr FormattedValue List Tuple Dict Attribute"
    ).split()
)
INSTRUCTIONS = SandboxedEnvironment(undefined=StrictUndefined)
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))

FAR_FUTURE = datetime(2099, 1, 5, 9, tzinfo=UTC)  # timers only fire when a path makes them due

# operator -> (required parameters, optional parameters, fake result)
OPERATORS = {
    "ticket.set_status": ({"status"}, {"resolution"}, lambda p, n: {"status": p["status"]}),
    "notify.customer": ({"subject", "body"}, set(), lambda p, n: {"outbox_id": n}),
    "refund.issue": ({"amount"}, set(), lambda p, n: {"ledger_id": n, "amount": p["amount"]}),
    "credit_note.issue": ({"amount"}, set(), lambda p, n: {"ledger_id": n, "amount": p["amount"]}),
    "inventory.restock": (
        {"items"},
        set(),
        lambda p, n: {"restocked": sum(item["qty"] for item in p["items"])},
    ),
    "credit.assess": (set(), set(), lambda p, n: {"score": 72, "risk": "low", "proposed_limit": 2500.0}),
    "credit.assign_balance": ({"amount"}, set(), lambda p, n: {"ledger_id": n, "amount": p["amount"]}),
    "calendar.due": (
        {"days", "team"},
        set(),
        lambda p, n: {"at": (FAR_FUTURE + timedelta(days=p["days"])).isoformat()},
    ),
    "calendar.first_response_due": (set(), set(), lambda p, n: {"at": FAR_FUTURE.isoformat()}),
    "ticket.raise_priority": (set(), {"reason"}, lambda p, n: {"priority": "urgent", "previous": "high", "changed": True}),
    "escalation.notify_team": (
        {"team", "subject", "body"},
        {"include_assignee"},
        lambda p, n: {"team": p["team"], "notified": ["lead"]},
    ),
    "feedback.request": ({"reminder"}, set(), lambda p, n: {"feedback_request_id": 1, "reminder": p["reminder"], "sent": True}),
}


# ---------------------------------------------------------------------------- helpers
def bpmn_path(process):
    return ROOT / "processes" / f"{process}.bpmn"


def xml(process):
    return etree.parse(str(bpmn_path(process)))


def parse_spec(process):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(bpmn_path(process)))
    return parser, parser.get_spec(process)


def load_form(name):
    return json.loads((ROOT / "forms" / name).read_text())


def form_names(process):
    tree = xml(process)
    props = tree.xpath("//spiffworkflow:property[@name='formJsonSchemaFilename']", namespaces=NS)
    return {prop.getparent().getparent().getparent().get("id"): prop.get("value") for prop in props}


def flow_nodes(tree):
    return [el for tag in FLOW_NODES for el in tree.xpath(f"//bpmn:process/bpmn:{tag}", namespaces=NS)]


def flows(tree):
    return tree.xpath("//bpmn:process/bpmn:sequenceFlow", namespaces=NS)


def bounds(tree, element_id):
    found = tree.xpath(f"//bpmndi:*[@bpmnElement='{element_id}']/dc:Bounds", namespaces=NS)
    return tuple(float(found[0].get(k)) for k in ("x", "y", "width", "height")) if found else None


def overlap(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def inside(inner, outer):
    return (
        outer[0] <= inner[0]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and outer[1] <= inner[1]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


def on_border(point, box):
    x, y = point
    within = box[0] - 1 <= x <= box[0] + box[2] + 1 and box[1] - 1 <= y <= box[1] + box[3] + 1
    return (
        within
        and min(abs(x - box[0]), abs(x - box[0] - box[2]), abs(y - box[1]), abs(y - box[1] - box[3])) <= 1
    )


def catches(spec):
    """Yield (catch event id, event definition) for every catch, also those behind event-based gateways."""
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(task_spec, EventBasedGateway):
            yield from zip((out.name for out in task_spec.outputs), definition.event_definitions, strict=True)
        elif isinstance(task_spec, CatchingEvent) and type(definition).__name__ != "NoneEventDefinition":
            yield task_spec.name, definition


def expressions(spec):
    """Yield (task id, what, expression) for every condition, service parameter and timer value."""
    for name, definition in catches(spec):
        if isinstance(definition, TimerEventDefinition):
            yield name, "timer", definition.expression
    for task_spec in spec.task_specs.values():
        for condition, target in getattr(task_spec, "cond_task_specs", []):
            if condition is not None:
                yield task_spec.name, f"condition to {target}", condition.args[0]
        for name, param in (getattr(task_spec, "operation_params", None) or {}).items():
            yield task_spec.name, f"parameter {name}", param["value"]


def known_names(process, spec):
    names = set(ENGINE_FIELDS)
    for form in set(form_names(process).values()):
        names |= set(load_form(form)["properties"])
    for task_spec in spec.task_specs.values():
        names.add(getattr(task_spec, "result_variable", None))
    for _, definition in catches(spec):
        names.add(getattr(definition, "message_var", None))
    return names - {None}


# ---------------------------------------------------------------------------- diagram checks
@pytest.mark.parametrize("process", PROCESSES)
def test_diagram_parses_with_xsd_validation_into_one_executable_process_named_after_its_file(process):
    parser, spec = parse_spec(process)
    tree = xml(process)
    assert parser.get_process_ids() == [process]
    assert spec.name == process
    assert tree.xpath("//bpmn:process/@isExecutable", namespaces=NS) == ["true"]
    assert tree.xpath("//bpmn:collaboration/bpmn:participant/@processRef", namespaces=NS) == [process]


@pytest.mark.parametrize("process", PROCESSES)
def test_every_element_has_a_readable_name_and_no_reserved_id(process):
    tree = xml(process)
    for el in flow_nodes(tree) + tree.xpath("//bpmn:lane", namespaces=NS):
        assert el.get("name"), el.get("id")
        assert el.get("id") not in {"Start", "End", "Root"}, el.get("id")
        assert el.get("id").islower() and el.get("id").replace("_", "").isalnum(), el.get("id")


@pytest.mark.parametrize("process", PROCESSES)
def test_lanes_are_teams_and_hold_every_flow_node_exactly_once(process):
    tree = xml(process)
    lanes = {
        lane.get("name"): lane.xpath("bpmn:flowNodeRef/text()", namespaces=NS)
        for lane in tree.xpath("//bpmn:lane", namespaces=NS)
    }
    assert set(lanes) <= TEAMS
    refs = [ref for members in lanes.values() for ref in members]
    assert sorted(refs) == sorted(el.get("id") for el in flow_nodes(tree))


@pytest.mark.parametrize("process", PROCESSES)
def test_user_tasks_sit_in_a_team_lane_with_a_form_and_instructions(process):
    _, spec = parse_spec(process)
    user_tasks = [ts for ts in spec.task_specs.values() if ts.manual]
    assert user_tasks
    for ts in user_tasks:
        assert ts.lane in TEAMS, ts.name
        assert ts.extensions["properties"]["formJsonSchemaFilename"].split("_")[0] in (process, SHARED_FORMS)
        assert ts.extensions["instructionsForEndUser"].strip(), ts.name
        assert "variableName" not in ts.extensions, ts.name


@pytest.mark.parametrize("process", PROCESSES)
def test_start_event_names_the_start_form(process):
    _, spec = parse_spec(process)
    starts = [ts for ts in spec.task_specs.values() if type(ts).__name__ == "StartEvent"]
    assert [ts.extensions["properties"]["formJsonSchemaFilename"] for ts in starts] == [
        f"{process}_start.json"
    ]


@pytest.mark.parametrize("process", PROCESSES)
def test_referenced_forms_exist_and_are_valid_json_schemas(process):
    for form in form_names(process).values():
        schema = load_form(form)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object" and schema["additionalProperties"] is False, form
        assert set(schema["required"]) <= set(schema["properties"]), form
        for name, prop in schema["properties"].items():
            assert prop.get("title"), f"{form}: {name}"
            assert prop.get("x-widget") in (None, "radio", "textarea", "money"), f"{form}: {name}"


def test_every_form_file_is_used_by_a_diagram():
    used = {form for process in PROCESSES for form in form_names(process).values()}
    assert {path.name for path in (ROOT / "forms").glob("*.json")} >= used
    prefixes = [*PROCESSES, SHARED_FORMS]
    shipped = {path.name for path in (ROOT / "forms").glob("*.json") if path.name.split("_")[0] in prefixes}
    assert shipped == used


@pytest.mark.parametrize(
    "form, data",
    [
        ("return_review.json", {"decision": "reject"}),
        ("return_review.json", {"decision": "reject", "rejection_reason": ""}),
        ("return_review.json", {"decision": "more_info"}),
        ("return_review.json", {"decision": "accept"}),
        ("return_review.json", {"decision": "accept", "resolution": "voucher"}),
        ("return_receive_item.json", {"item_received": False, "condition": "used"}),
        (
            "return_start.json",
            {
                "order_number": "A-1",
                "items": [],
                "reason": "damaged",
                "amount": 5,
                "preferred_resolution": "refund",
            },
        ),
        ("credit_review_data.json", {"data_complete": False}),
        ("credit_decide.json", {"decision": "approve"}),
        ("general_answer.json", {"information_given": True}),
        ("complaint_resolve.json", {"resolution_summary": "Sorry", "outcome": "fine"}),
        ("complaint_start.json", {"description": "Late", "severity": "medium", "extra": 1}),
        ("feedback_follow_up.json", {"contacted": True, "outcome": "resolved"}),
        ("feedback_follow_up.json", {"contacted": True, "outcome": "maybe", "notes": "Called her."}),
    ],
)
def test_forms_refuse_incomplete_answers(form, data):
    assert not Draft202012Validator(load_form(form)).is_valid(data)


@pytest.mark.parametrize("process", PROCESSES)
def test_splitting_exclusive_gateways_have_a_default_and_conditions_on_other_flows(process):
    tree = xml(process)
    for gateway in tree.xpath("//bpmn:exclusiveGateway", namespaces=NS):
        outgoing = tree.xpath(f"//bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']", namespaces=NS)
        if len(outgoing) < 2:
            continue
        assert gateway.get("default") in {f.get("id") for f in outgoing}, gateway.get("id")
        for f in outgoing:
            has_condition = bool(f.xpath("bpmn:conditionExpression", namespaces=NS))
            assert has_condition == (f.get("id") != gateway.get("default")), f.get("id")


@pytest.mark.parametrize("process", PROCESSES)
def test_expressions_stay_in_the_safe_subset_and_read_known_fields(process):
    _, spec = parse_spec(process)
    names = known_names(process, spec)
    found = list(expressions(spec))
    assert found
    for task, what, text in found:
        tree = ast.parse(text, mode="eval")
        methods = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        for node in ast.walk(tree):
            where = f"{task} {what}: {text}"
            assert isinstance(node, SAFE_NODES), f"{where}: {type(node).__name__}"
            if isinstance(node, ast.Attribute):
                assert id(node) in methods and node.attr in SAFE_METHODS, where
            if isinstance(node, ast.Call):
                assert isinstance(node.func, ast.Attribute), where
            if isinstance(node, ast.Name):
                assert not node.id.startswith("_") and node.id in names, where


@pytest.mark.parametrize("process", PROCESSES)
def test_service_tasks_call_known_operators_with_their_parameters(process):
    _, spec = parse_spec(process)
    for ts in spec.task_specs.values():
        if hasattr(ts, "operation_name"):
            required, optional, _ = OPERATORS[ts.operation_name]
            assert required <= set(ts.operation_params) <= required | optional, ts.name
            assert ts.result_variable and not ts.result_variable.startswith("spiff__"), ts.name
            assert (ts.retries, ts.retry_backoff_base) == (3, 2), ts.name
    if process == "credit":
        assert spec.task_specs["assess_credit"].result_variable == "assessment"


def wait_catches(spec, gateway):
    """{kind: (catch event id, definition)} behind an event-based gateway."""
    found = {}
    for out, definition in zip(spec.task_specs[gateway].outputs, spec.task_specs[gateway].event_definition.event_definitions,
                               strict=True):
        found["message" if isinstance(definition, MessageEventDefinition) else "timer"] = (out.name, definition)
    return found


@pytest.mark.parametrize("process", ["return", "credit"])
def test_customer_reply_is_caught_into_customer_reply_without_correlation(process):
    _, spec = parse_spec(process)
    replies = [(name, d) for name, d in catches(spec) if isinstance(d, MessageEventDefinition) and d.name == "customer_reply"]
    assert [name for name, _ in replies] == ["wait_customer_reply", "reply_after_reminder"]
    for _, definition in replies:
        assert definition.message_var == "customer_reply"
        assert definition.correlation_properties == []


@pytest.mark.parametrize("process", PROCESSES)
def test_event_based_gateways_wait_for_one_message_and_one_timer(process):
    # The engine keeps one timer row and one message subscription per waiting task.
    _, spec = parse_spec(process)
    gateways = [ts for ts in spec.task_specs.values() if isinstance(ts, EventBasedGateway)]
    assert gateways
    for gateway in gateways:
        definitions = gateway.event_definition.event_definitions
        kinds = sorted("message" if isinstance(d, MessageEventDefinition) else
                       "timer" if isinstance(d, TimerEventDefinition) else type(d).__name__ for d in definitions)
        assert kinds == ["message", "timer"], gateway.name


@pytest.mark.parametrize("process", ["return", "credit"])
def test_customer_wait_reminds_after_2_and_gives_up_after_7_business_days_of_the_team(process):
    _, spec = parse_spec(process)
    team = {"return": "returns", "credit": "credit"}[process]
    first, second = wait_catches(spec, "wait_reply_or_reminder"), wait_catches(spec, "wait_reply_or_deadline")
    assert first["timer"][0] == "reminder_due" and second["timer"][0] == "reply_deadline_passed"
    assert isinstance(first["timer"][1], TimeDateEventDefinition)
    assert (first["timer"][1].expression, second["timer"][1].expression) == ('reminder_at["at"]', 'reply_deadline["at"]')
    for task, days, result in (("schedule_reminder", "2", "reminder_at"), ("schedule_reply_deadline", "7", "reply_deadline")):
        ts = spec.task_specs[task]
        assert ts.operation_name == "calendar.due" and ts.result_variable == result
        assert (ts.operation_params["days"]["value"], ts.operation_params["team"]["value"]) == (days, f'"{team}"')


@pytest.mark.parametrize("process", PROCESSES)
def test_feedback_is_caught_into_feedback_and_reminded_once(process):
    _, spec = parse_spec(process)
    first, second = wait_catches(spec, "wait_feedback"), wait_catches(spec, "wait_feedback_again")
    for name, definition in (first["message"], second["message"]):
        assert (definition.name, definition.message_var) == ("feedback_received", "feedback"), name
    assert isinstance(spec.task_specs["wait_feedback_delay"].event_definition, DurationTimerEventDefinition)
    assert spec.task_specs["wait_feedback_delay"].event_definition.expression == "feedback_delay"
    assert (first["timer"][1].expression, second["timer"][1].expression) == ('"P3D"', '"P7D"')
    reminders = [spec.task_specs[t].operation_params["reminder"]["value"] for t in ("request_feedback", "remind_feedback")]
    assert reminders == ["False", "True"]
    assert spec.task_specs["follow_up"].lane == "customer-success"


def test_complaint_first_response_escalates_to_the_lead_and_the_review_is_reminded():
    parser, spec = parse_spec("complaint")
    overdue, review = spec.task_specs["first_response_overdue"], spec.task_specs["review_overdue"]
    assert isinstance(overdue, BoundaryEvent) and isinstance(review, BoundaryEvent)
    assert (overdue.cancel_activity, review.cancel_activity) == (True, False)
    assert overdue.event_definition.expression == 'first_response_deadline["at"]'
    assert review.event_definition.expression == 'review_deadline["at"]'
    assert spec.task_specs["first_response_deadline"].operation_name == "calendar.first_response_due"
    lead = spec.task_specs["lead_initial_response"]
    assert lead.lane == "support" and lead.extensions["properties"]["assignToLead"] == "true"
    tree = xml("complaint")
    assert tree.xpath("//bpmn:boundaryEvent[@id='first_response_overdue']/@attachedToRef", namespaces=NS) == [
        "initial_response"]
    assert tree.xpath("//bpmn:boundaryEvent[@id='review_overdue']/@attachedToRef", namespaces=NS) == ["review_complaint"]


# ---------------------------------------------------------------------------- diagram interchange
def attached_to(tree):
    """{boundary event id: host id}"""
    return {el.get("id"): el.get("attachedToRef") for el in tree.xpath("//bpmn:boundaryEvent", namespaces=NS)}


@pytest.mark.parametrize("process", PROCESSES)
def test_every_participant_lane_node_and_flow_has_diagram_interchange(process):
    tree = xml(process)
    shaped = tree.xpath("//bpmn:participant | //bpmn:lane", namespaces=NS) + flow_nodes(tree)
    for el in shaped:
        assert bounds(tree, el.get("id")), el.get("id")
    for f in flows(tree):
        points = tree.xpath(f"//bpmndi:BPMNEdge[@bpmnElement='{f.get('id')}']/di:waypoint", namespaces=NS)
        assert len(points) >= 2, f.get("id")
    plane = tree.xpath("//bpmndi:BPMNPlane/@bpmnElement", namespaces=NS)
    assert plane == tree.xpath("//bpmn:collaboration/@id", namespaces=NS)


@pytest.mark.parametrize("process", PROCESSES)
def test_shapes_do_not_overlap_and_stay_inside_their_lane(process):
    tree = xml(process)
    pool = bounds(tree, tree.xpath("//bpmn:participant/@id", namespaces=NS)[0])
    lanes = tree.xpath("//bpmn:lane", namespaces=NS)
    for a, b in combinations(lanes, 2):
        assert not overlap(bounds(tree, a.get("id")), bounds(tree, b.get("id")))
    for lane in lanes:
        assert inside(bounds(tree, lane.get("id")), pool)
        for ref in lane.xpath("bpmn:flowNodeRef/text()", namespaces=NS):
            assert inside(bounds(tree, ref), bounds(tree, lane.get("id"))), ref
    labels = [
        tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
        for b in tree.xpath("//bpmndi:BPMNLabel/dc:Bounds", namespaces=NS)
    ]
    hosts = attached_to(tree)
    nodes = [(el.get("id"), bounds(tree, el.get("id"))) for el in flow_nodes(tree)]
    for (a, box_a), (b, box_b) in combinations(nodes, 2):
        if hosts.get(a) == b or hosts.get(b) == a:
            continue  # a boundary event sits on its activity's border
        assert not overlap(box_a, box_b), (a, b)
    for node, box in nodes:
        assert not any(overlap(box, label) for label in labels), node


@pytest.mark.parametrize("process", ["complaint"])
def test_boundary_events_sit_on_the_border_of_their_activity(process):
    tree = xml(process)
    for event, host in attached_to(tree).items():
        x, y, w, h = bounds(tree, event)
        assert on_border((x + w / 2, y + h / 2), bounds(tree, host)), event


@pytest.mark.parametrize("process", PROCESSES)
def test_edges_are_orthogonal_join_their_shapes_and_run_left_to_right(process):
    tree = xml(process)
    for f in flows(tree):
        points = [
            (float(p.get("x")), float(p.get("y")))
            for p in tree.xpath(f"//bpmndi:BPMNEdge[@bpmnElement='{f.get('id')}']/di:waypoint", namespaces=NS)
        ]
        assert on_border(points[0], bounds(tree, f.get("sourceRef"))), f.get("id")
        assert on_border(points[-1], bounds(tree, f.get("targetRef"))), f.get("id")
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in pairwise(points)), f.get("id")
        if bounds(tree, f.get("targetRef"))[0] < bounds(tree, f.get("sourceRef"))[0]:
            target = tree.xpath(f"//bpmn:*[@id='{f.get('targetRef')}']", namespaces=NS)[0]
            assert etree.QName(target).localname == "exclusiveGateway", f"{f.get('id')} runs back"


@pytest.mark.parametrize("process", PROCESSES)
def test_edges_do_not_run_through_other_shapes(process):
    tree = xml(process)
    hosts = attached_to(tree)
    boxes = {el.get("id"): bounds(tree, el.get("id")) for el in flow_nodes(tree)}
    for f in flows(tree):
        ends = {f.get("sourceRef"), f.get("targetRef")}
        ends |= {hosts[end] for end in ends if end in hosts}
        points = [
            (float(p.get("x")), float(p.get("y")))
            for p in tree.xpath(f"//bpmndi:BPMNEdge[@bpmnElement='{f.get('id')}']/di:waypoint", namespaces=NS)
        ]
        for (x1, y1), (x2, y2) in pairwise(points):
            segment = (min(x1, x2), min(y1, y2), max(abs(x2 - x1), 0.1), max(abs(y2 - y1), 0.1))
            crossed = [node for node, box in boxes.items() if node not in ends and overlap(segment, box)]
            assert not crossed, (f.get("id"), crossed)


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
