"""The shipped workflows as documents: diagrams, forms, expressions, operators and diagram
interchange (every element drawn, nothing overlapping, edges orthogonal)."""

import ast
from itertools import combinations, pairwise

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent, EventBasedGateway

from tests.processes.shared import (
    NS,
    OPERATORS,
    PROCESSES,
    ROOT,
    SAFE_METHODS,
    SAFE_NODES,
    SHARED_FORMS,
    TEAMS,
    bounds,
    catches,
    expressions,
    flow_nodes,
    flows,
    form_names,
    inside,
    known_names,
    load_form,
    on_border,
    overlap,
    parse_spec,
    xml,
)


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
