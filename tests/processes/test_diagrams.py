"""The shipped workflows as documents: diagrams, forms, expressions, operators and diagram
interchange (every element drawn, nothing overlapping, edges orthogonal).

The documents are read with lxml; whether the engine accepts them (XSD validation, expressions in
its safe subset, known operators, forms) is asked of the engine itself (`check_files`, `deploy_bundle`).
"""

import ast
from itertools import combinations, pairwise

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from app.engine import check_files, deploy_bundle
from app.handlers import HANDLERS
from tests.factories import TEAMS as FACTORY_TEAMS
from tests.factories import make_team
from tests.processes.shared import (
    NS,
    OPERATORS,
    PROCESSES,
    ROOT,
    SHARED_FORMS,
    TEAMS,
    bounds,
    bpmn_path,
    catch_events,
    element,
    expressions,
    flow_nodes,
    flows,
    form_names,
    gateway_catches,
    inside,
    instructions,
    known_names,
    lane_of,
    load_form,
    on_border,
    overlap,
    properties,
    service_tasks,
    user_tasks,
    xml,
)


def shipped_files():
    """The four diagrams and every form file, as an upload bundle."""
    files = [(f"{process}.bpmn", bpmn_path(process).read_bytes()) for process in PROCESSES]
    return files + [(path.name, path.read_bytes()) for path in sorted((ROOT / "forms").glob("*.json"))]


# ---------------------------------------------------------------------------- diagram checks
def test_the_engine_accepts_the_shipped_diagrams_with_their_forms_without_a_warning(app):
    checked = check_files(shipped_files())  # XSD validation, expressions, operators, forms
    assert sorted(p.key for p in checked.processes) == sorted(PROCESSES)
    assert checked.warnings == []
    for process in checked.processes:
        assert process.file == f"{process.key}.bpmn"
        assert set(process.forms) == set(form_names(process.key).values())


def test_the_shipped_bundle_deploys_into_one_version_each_with_its_lanes_teams(app):
    for key in FACTORY_TEAMS:
        make_team(key)
    result = deploy_bundle(shipped_files(), actor="test")
    assert result.warnings == []  # every lane names a team
    assert sorted((p["key"], p["version"]) for p in result.processes) == sorted((p, 1) for p in PROCESSES)
    again = deploy_bundle(shipped_files(), actor="test")
    assert not again.created


@pytest.mark.parametrize("process", PROCESSES)
def test_diagram_holds_one_executable_process_named_after_its_file(process):
    tree = xml(process)
    assert tree.xpath("//bpmn:process/@id", namespaces=NS) == [process]
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
    tree = xml(process)
    assert user_tasks(tree)
    for task in user_tasks(tree):
        name = task.get("id")
        assert lane_of(tree, name) in TEAMS, name
        assert properties(task)["formJsonSchemaFilename"].split("_")[0] in (process, SHARED_FORMS)
        assert (instructions(task) or "").strip(), name
        assert not task.xpath("bpmn:extensionElements/spiffworkflow:variableName", namespaces=NS), name


@pytest.mark.parametrize("process", PROCESSES)
def test_start_event_names_the_start_form(process):
    starts = xml(process).xpath("//bpmn:process/bpmn:startEvent", namespaces=NS)
    assert [properties(start)["formJsonSchemaFilename"] for start in starts] == [f"{process}_start.json"]


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
def test_expressions_read_only_known_fields(process):
    # Whether the engine evaluates them (its safe subset) is test_the_engine_accepts_... above.
    names = known_names(process) | {"min"}  # the engine's whitelisted min(): a payment never above a figure
    found = list(expressions(xml(process)))
    assert found
    for task, what, text in found:
        tree = ast.parse(text, mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                assert not node.id.startswith("_") and node.id in names, f"{task} {what}: {text}"


@pytest.mark.parametrize("process", PROCESSES)
def test_service_tasks_call_known_operators_with_their_parameters(process):
    tasks = service_tasks(xml(process))
    assert tasks
    for name, (operator, params, result, retries, backoff) in tasks.items():
        assert operator in HANDLERS, name
        required, optional = OPERATORS[operator]
        assert required <= set(params) <= required | optional, name
        assert result and not result.startswith("spiff__"), name
        assert (retries, backoff) == (3, 2), name
    if process == "credit":
        assert tasks["assess_credit"][2] == "assessment"


@pytest.mark.parametrize("process", ["return", "credit"])
def test_customer_reply_is_caught_into_customer_reply_without_correlation(process):
    tree = xml(process)
    replies = [
        (name, variable)
        for name, (kind, message, variable) in catch_events(tree).items()
        if kind == "message" and message == "customer_reply"
    ]
    assert replies == [("wait_customer_reply", "customer_reply"), ("reply_after_reminder", "customer_reply")]
    assert tree.xpath("//bpmn:correlationProperty | //bpmn:correlationKey", namespaces=NS) == []


@pytest.mark.parametrize("process", PROCESSES)
def test_event_based_gateways_wait_for_one_message_and_one_timer(process):
    # The engine keeps one timer row and one message subscription per waiting task.
    tree = xml(process)
    gateways = tree.xpath("//bpmn:process/bpmn:eventBasedGateway/@id", namespaces=NS)
    assert gateways
    for gateway in gateways:
        outgoing = [f for f in flows(tree) if f.get("sourceRef") == gateway]
        assert len(outgoing) == 2 and sorted(gateway_catches(tree, gateway)) == ["message", "timer"], gateway


@pytest.mark.parametrize("process", ["return", "credit"])
def test_customer_wait_reminds_after_2_and_gives_up_after_7_business_days_of_the_team(process):
    tree = xml(process)
    team = {"return": "returns", "credit": "credit"}[process]
    first, second = (
        gateway_catches(tree, "wait_reply_or_reminder"),
        gateway_catches(tree, "wait_reply_or_deadline"),
    )
    assert first["timer"][0] == "reminder_due" and second["timer"][0] == "reply_deadline_passed"
    assert first["timer"][1][1] == second["timer"][1][1] == "timeDate"
    assert (first["timer"][1][2], second["timer"][1][2]) == ('reminder_at["at"]', 'reply_deadline["at"]')
    tasks = service_tasks(tree)
    for task, days, result in (
        ("schedule_reminder", "2", "reminder_at"),
        ("schedule_reply_deadline", "7", "reply_deadline"),
    ):
        operator, params, result_variable, _, _ = tasks[task]
        assert operator == "calendar.due" and result_variable == result
        assert (params["days"], params["team"]) == (days, f'"{team}"')


@pytest.mark.parametrize("process", [p for p in PROCESSES if p != "onboarding"])  # no service to rate
def test_feedback_is_caught_into_feedback_and_reminded_once(process):
    tree = xml(process)
    first, second = gateway_catches(tree, "wait_feedback"), gateway_catches(tree, "wait_feedback_again")
    for name, (_, message, variable) in (first["message"], second["message"]):
        assert (message, variable) == ("feedback_received", "feedback"), name
    assert catch_events(tree)["wait_feedback_delay"] == ("timer", "timeDuration", "feedback_delay")
    assert (first["timer"][1][2], second["timer"][1][2]) == (
        "feedback_reminder_delay",
        "feedback_deadline_delay",
    )
    tasks = service_tasks(tree)
    assert [tasks[t][1]["reminder"] for t in ("request_feedback", "remind_feedback")] == ["False", "True"]
    assert lane_of(tree, "follow_up") == "customer-success"


def test_complaint_first_response_escalates_to_the_lead_and_the_review_is_reminded():
    tree = xml("complaint")
    overdue, review = element(tree, "first_response_overdue"), element(tree, "review_overdue")
    assert etree.QName(overdue).localname == etree.QName(review).localname == "boundaryEvent"
    assert (overdue.get("cancelActivity", "true"), review.get("cancelActivity", "true")) == ("true", "false")
    catches = catch_events(tree)
    assert catches["first_response_overdue"] == ("timer", "timeDate", 'first_response_deadline["at"]')
    assert catches["review_overdue"] == ("timer", "timeDate", 'review_deadline["at"]')
    assert service_tasks(tree)["first_response_deadline"][0] == "calendar.first_response_due"
    lead = element(tree, "lead_initial_response")
    assert lane_of(tree, "lead_initial_response") == "support" and properties(lead)["assignToLead"] == "true"
    assert overdue.get("attachedToRef") == "initial_response"
    assert review.get("attachedToRef") == "review_complaint"


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
