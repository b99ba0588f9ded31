"""The shipped workflows: diagrams, forms, diagram interchange, and every path through them.

Each path runs on plain SpiffWorkflow with a recording service engine and a serialize/deserialize
round trip after every step, the way the engine stores an instance between commands.
"""

import ast
import json
from dataclasses import dataclass, field
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
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ["return", "credit", "general", "complaint"]
TEAMS = {"returns", "credit", "support", "customer-success"}
ENGINE_FIELDS = {"ticket_id", "ticket_type", "subject", "priority", "customer"}
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODES = (
    "startEvent endEvent userTask serviceTask exclusiveGateway parallelGateway intermediateCatchEvent boundaryEvent"
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


def expressions(spec):
    """Yield (task id, what, expression) for every condition and service parameter."""
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
        names.add(getattr(getattr(task_spec, "event_definition", None), "message_var", None))
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
        assert ts.extensions["properties"]["formJsonSchemaFilename"].startswith(f"{process}_")
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
    shipped = {path.name for path in (ROOT / "forms").glob("*.json") if path.name.split("_")[0] in PROCESSES}
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


@pytest.mark.parametrize("process", ["return", "credit"])
def test_customer_reply_is_caught_into_customer_reply_without_correlation(process):
    _, spec = parse_spec(process)
    catches = [
        ts
        for ts in spec.task_specs.values()
        if isinstance(ts, CatchingEvent) and type(ts.event_definition).__name__ == "MessageEventDefinition"
    ]
    assert [ts.name for ts in catches] == ["wait_customer_reply"]
    definition = catches[0].event_definition
    assert (definition.name, definition.message_var) == ("customer_reply", "customer_reply")
    assert definition.correlation_properties == []


# ---------------------------------------------------------------------------- diagram interchange
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
    nodes = [(el.get("id"), bounds(tree, el.get("id"))) for el in flow_nodes(tree)]
    for (a, box_a), (b, box_b) in combinations(nodes, 2):
        assert not overlap(box_a, box_b), (a, b)
    for node, box in nodes:
        assert not any(overlap(box, label) for label in labels), node


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
class Reply:
    payload: dict
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
    ["set_status_awaiting_customer", "notify_more_info"],
)
RETURN_REPLY = Reply(REPLY, ["set_status_in_progress"])
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
    ["set_status_missing_data", "notify_missing_data"],
)
CREDIT_REPLY = Reply(REPLY, ["set_status_in_progress"])
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
COMPLAINT_STEPS = [
    User("initial_response", "support", {"response": "We are sorry."}, ["notify_initial_response"]),
    User("review_complaint", "customer-success", {"findings": "The courier confirmed it."}),
]


def resolve(outcome):
    return User(
        "resolve_complaint",
        "customer-success",
        {"resolution_summary": "We changed the courier.", "outcome": outcome},
        ["notify_resolution", "close_complaint"],
    )


PATHS = [
    ProcessPath(
        "return", "rejected", RETURN_START, ["set_status_new"], [REJECT], ["new", "closed"], "rejected"
    ),
    ProcessPath(
        "return",
        "refunded",
        RETURN_START,
        ["set_status_new"],
        [ACCEPT, REFUNDED],
        ["new", "awaiting_return", "closed"],
        "refunded",
        {"issue_refund": {"amount": 59.9}, "restock_items": {"items": ITEMS}},
    ),
    ProcessPath(
        "return",
        "credit_note",
        {**RETURN_START, "preferred_resolution": "credit_note"},
        ["set_status_new"],
        [ACCEPT_CREDIT_NOTE, CREDITED],
        ["new", "awaiting_return", "closed"],
        "credit_note",
        {"issue_credit_note": {"amount": 59.9}},
    ),
    ProcessPath(
        "return",
        "more_info_then_rejected",
        RETURN_START,
        ["set_status_new"],
        [ASK, RETURN_REPLY, REJECT],
        ["new", "awaiting_customer", "in_progress", "closed"],
        "rejected",
    ),
    ProcessPath(
        "return",
        "more_info_then_refunded",
        RETURN_START,
        ["set_status_new"],
        [ASK, RETURN_REPLY, ACCEPT, REFUNDED],
        ["new", "awaiting_customer", "in_progress", "awaiting_return", "closed"],
        "refunded",
    ),
    ProcessPath(
        "return",
        "more_info_twice_then_credit_note",
        RETURN_START,
        ["set_status_new"],
        [ASK, RETURN_REPLY, ASK, RETURN_REPLY, ACCEPT_CREDIT_NOTE, CREDITED],
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
    ProcessPath(
        "credit",
        "approved",
        CREDIT_START,
        ["set_status_new"],
        [DATA_OK, APPROVE],
        ["new", "closed"],
        "approved",
        {"assign_credit_balance": {"amount": 2000.0}},
    ),
    ProcessPath(
        "credit", "denied", CREDIT_START, ["set_status_new"], [DATA_OK, DENY], ["new", "closed"], "denied"
    ),
    ProcessPath(
        "credit",
        "missing_data_then_approved",
        CREDIT_START,
        ["set_status_new"],
        [DATA_MISSING, CREDIT_REPLY, DATA_OK, APPROVE],
        ["new", "missing_data", "in_progress", "closed"],
        "approved",
    ),
    ProcessPath(
        "credit",
        "missing_data_then_denied",
        CREDIT_START,
        ["set_status_new"],
        [DATA_MISSING, CREDIT_REPLY, DATA_OK, DENY],
        ["new", "missing_data", "in_progress", "closed"],
        "denied",
    ),
    ProcessPath(
        "general",
        "answered",
        GENERAL_START,
        ["set_status_new", "set_status_in_progress"],
        [ANSWER],
        ["new", "in_progress", "closed"],
        "answered",
    ),
    ProcessPath(
        "general",
        "answered_after_more_work",
        GENERAL_START,
        ["set_status_new", "set_status_in_progress"],
        [NOT_YET, NOT_YET, ANSWER],
        ["new", "in_progress", "closed"],
        "answered",
    ),
    ProcessPath(
        "complaint",
        "satisfactory",
        COMPLAINT_START,
        ["set_status_new", "set_status_in_progress"],
        COMPLAINT_STEPS + [resolve("satisfactory")],
        ["new", "in_progress", "closed"],
        "satisfactory",
    ),
    ProcessPath(
        "complaint",
        "unsatisfactory",
        COMPLAINT_START,
        ["set_status_new", "set_status_in_progress"],
        COMPLAINT_STEPS + [resolve("unsatisfactory")],
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
        **path.start,
    )
    workflow.do_engine_steps()
    workflow = round_trip(workflow, engine)
    assert new_calls(engine, 0) == path.start_calls
    for step in path.steps:
        seen = len(engine.calls)
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        waiting = workflow.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent)
        if isinstance(step, User):
            assert [t.task_spec.name for t in ready] == [step.task] and not waiting
            task = ready[0]
            assert task.task_spec.lane == step.lane
            INSTRUCTIONS.from_string(task.task_spec.extensions["instructionsForEndUser"]).render(task.data)
            Draft202012Validator(load_form(forms[step.task])).validate(step.form)
            task.set_data(**step.form)
            task.run()
        else:
            assert not ready and [t.task_spec.name for t in waiting] == ["wait_customer_reply"]
            workflow.send_event(BpmnEvent(waiting[0].task_spec.event_definition, step.payload, {}))
        workflow.do_engine_steps()
        workflow = round_trip(workflow, engine)
        assert new_calls(engine, seen) == step.calls, (step, engine.calls[seen:])
    assert workflow.is_completed()
    return engine, workflow


def taken_flows(process, workflow):
    pairs = {
        (t.parent.task_spec.name, t.task_spec.name)
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if t.parent is not None
    }
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
        if operator == "notify.customer":
            assert params["subject"] and "{" not in params["subject"]
            assert params["body"].startswith("Dear Ada Lovelace,") and "{" not in params["body"]
    if any(isinstance(step, Reply) for step in path.steps):
        assert workflow.data["customer_reply"] == REPLY


@pytest.mark.parametrize("process", PROCESSES)
def test_the_paths_together_take_every_sequence_flow(process):
    taken = set()
    for path in (p for p in PATHS if p.process == process):
        taken |= taken_flows(process, run(path)[1])
    assert {f.get("id") for f in flows(xml(process))} - taken == set()
