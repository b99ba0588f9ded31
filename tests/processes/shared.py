"""Shared by the diagram checks and the path tests of the shipped workflows: where the files
are, how to parse them, the handler contract, and small geometry and expression helpers."""

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
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
