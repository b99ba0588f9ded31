"""Shared by the diagram checks and the path tests of the shipped workflows: where the files are,
how to read them (lxml: the documents, not a second engine), geometry helpers, and the operators
the diagrams may call with their parameters."""

import json
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ["return", "credit", "general", "complaint", "onboarding", "order"]
TEAMS = {"returns", "credit", "support", "customer-success", "billing"}
ENGINE_FIELDS = {
    "ticket_id",
    "ticket_type",
    "subject",
    "priority",
    "customer",
    "feedback_delay",
    "feedback_reminder_delay",
    "feedback_deadline_delay",
}
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
    " intermediateCatchEvent boundaryEvent subProcess"
).split()

# operator -> (required parameters, optional parameters): what the diagrams may pass each handler
OPERATORS = {
    "ticket.set_status": ({"status"}, {"resolution"}),
    "notify.customer": ({"subject", "body"}, set()),
    "refund.issue": ({"amount"}, set()),
    "credit_note.issue": ({"amount"}, set()),
    "inventory.restock": ({"items"}, set()),
    "credit.assess": (set(), set()),
    "credit.assign_balance": ({"amount"}, set()),
    "credit.check_approval": ({"amount", "decided_in"}, {"proposed"}),
    "refund.check_approval": ({"amount", "decided_in"}, set()),
    "calendar.due": ({"days", "team"}, set()),
    "calendar.first_response_due": (set(), set()),
    "ticket.raise_priority": (set(), {"reason"}),
    "escalation.notify_team": ({"team", "subject", "body"}, {"include_assignee"}),
    "feedback.request": ({"reminder"}, set()),
    "engagement.tracking_link": (set(), set()),
    "customer.record_engagement": ({"kind"}, set()),
    "customer.classify_engagement": (set(), set()),
    "backoffice.request": ({"system", "action", "reference"}, set()),
}


# ---------------------------------------------------------------------------- the documents
def bpmn_path(process):
    return ROOT / "processes" / f"{process}.bpmn"


def xml(process):
    return etree.parse(str(bpmn_path(process)))


def load_form(name):
    return json.loads((ROOT / "forms" / name).read_text())


def element(tree, element_id):
    [found] = tree.xpath(f"//bpmn:process/bpmn:*[@id='{element_id}']", namespaces=NS)
    return found


def properties(el):
    """{name: value} of an element's spiffworkflow:properties."""
    return {
        p.get("name"): p.get("value")
        for p in el.xpath(
            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
        )
    }


def form_names(process):
    """{element id: form file} of every element naming a form (the start event and user tasks)."""
    tree = xml(process)
    props = tree.xpath("//spiffworkflow:property[@name='formJsonSchemaFilename']", namespaces=NS)
    return {prop.getparent().getparent().getparent().get("id"): prop.get("value") for prop in props}


def flow_nodes(tree):
    return [el for tag in FLOW_NODES for el in tree.xpath(f"//bpmn:process/bpmn:{tag}", namespaces=NS)]


def flows(tree):
    return tree.xpath("//bpmn:process/bpmn:sequenceFlow", namespaces=NS)


def lane_of(tree, element_id):
    lanes = tree.xpath(f"//bpmn:lane[bpmn:flowNodeRef/text()='{element_id}']/@name", namespaces=NS)
    return lanes[0] if lanes else None


def user_tasks(tree):
    return tree.xpath("//bpmn:process/bpmn:userTask", namespaces=NS)


def instructions(el):
    found = el.xpath("bpmn:extensionElements/spiffworkflow:instructionsForEndUser/text()", namespaces=NS)
    return found[0] if found else None


def service_tasks(tree):
    """{task id: (operator, {parameter: value expression}, result variable, retries, backoff base)}"""
    found = {}
    for task in tree.xpath("//bpmn:process/bpmn:serviceTask", namespaces=NS):
        [operator] = task.xpath("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
        params = {
            p.get("id"): p.get("value")
            for p in operator.xpath("spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NS)
        }
        retry = operator.xpath("spiffworkflow:retry", namespaces=NS)
        retries, backoff = (
            (int(retry[0].get("retries")), float(retry[0].get("backoff_base"))) if retry else (None, None)
        )
        found[task.get("id")] = (operator.get("id"), params, operator.get("resultVariable"), retries, backoff)
    return found


def catch_events(tree):
    """{catch event id: ("message", message name, variable) or ("timer", kind, expression)} of every
    intermediate catch and boundary event (an event-based gateway's catches are its targets)."""
    found = {}
    events = tree.xpath(
        "//bpmn:process/bpmn:intermediateCatchEvent | //bpmn:process/bpmn:boundaryEvent", namespaces=NS
    )
    for event in events:
        message = event.xpath("bpmn:messageEventDefinition", namespaces=NS)
        timer = event.xpath("bpmn:timerEventDefinition/*", namespaces=NS)
        if message:
            variable = message[0].xpath(
                "bpmn:extensionElements/spiffworkflow:messageVariable/text()", namespaces=NS
            )
            found[event.get("id")] = (
                "message",
                message[0].get("messageRef"),
                variable[0] if variable else None,
            )
        elif timer:
            found[event.get("id")] = ("timer", etree.QName(timer[0]).localname, timer[0].text.strip())
    return found


def listeners(tree):
    """The message start events of the event subprocesses: they listen while the process runs."""
    return set(
        tree.xpath(
            "//bpmn:process/bpmn:subProcess[@triggeredByEvent='true']/bpmn:startEvent"
            "[bpmn:messageEventDefinition]/@id",
            namespaces=NS,
        )
    )


def gateway_catches(tree, gateway):
    """{"message" | "timer": (catch event id, definition)} behind an event-based gateway."""
    catches = catch_events(tree)
    targets = [f.get("targetRef") for f in flows(tree) if f.get("sourceRef") == gateway]
    return {catches[t][0]: (t, catches[t]) for t in targets}


def expressions(tree):
    """Yield (element id, what, expression) for every condition, service parameter and timer value."""
    for f in flows(tree):
        for condition in f.xpath("bpmn:conditionExpression/text()", namespaces=NS):
            yield f.get("sourceRef"), f"condition to {f.get('targetRef')}", condition
    for task, (_, params, _, _, _) in service_tasks(tree).items():
        for name, value in params.items():
            yield task, f"parameter {name}", value
    for event, (kind, _, text) in catch_events(tree).items():
        if kind == "timer":
            yield event, "timer", text


def known_names(process):
    """The data names an expression of the process may read: engine fields, form fields,
    service results and message variables."""
    tree = xml(process)
    names = set(ENGINE_FIELDS)
    for form in set(form_names(process).values()):
        names |= set(load_form(form)["properties"])
    names |= {result for _, _, result, _, _ in service_tasks(tree).values()}
    names |= {variable for kind, _, variable in catch_events(tree).values() if kind == "message"}
    return names - {None}


# ---------------------------------------------------------------------------- geometry
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
