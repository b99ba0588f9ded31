"""Analysts' process tests: scenarios in `<key>.tests.json` run on the real engine, in a transaction
that is rolled back; each reports passed or failed, the path taken and the failing element."""

import json

import pytest

from app.engine import DiagramRejected, deploy_bundle, parse_tests, run_process_tests
from app.extensions import db
from app.handlers import HANDLERS
from app.models import HistoryEvent, Job, LedgerEntry, ProcessDefinition, ProcessInstance, Ticket, Timer
from tests.diagrams import bpmn, gateway_process, timer_process

REFUND = bpmn(
    """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="decide" name="Decide"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:exclusiveGateway id="approved" default="to_declined"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>to_pay</bpmn:outgoing><bpmn:outgoing>to_declined</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:serviceTask id="pay" name="Pay">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="refund.issue" resultVariable="refund">
        <spiffworkflow:parameters><spiffworkflow:parameter id="amount" type="float" value="amount"/></spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>to_pay</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:endEvent id="paid"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="declined"><bpmn:incoming>to_declined</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
  <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="approved"/>
  <bpmn:sequenceFlow id="to_pay" sourceRef="approved" targetRef="pay">
    <bpmn:conditionExpression>approve == True</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="to_declined" sourceRef="approved" targetRef="declined"/>
  <bpmn:sequenceFlow id="f4" sourceRef="pay" targetRef="paid"/>""",
    "refund_flow",
)

POLLING = bpmn(
    """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="again"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>back</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:serviceTask id="poll" name="Poll">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="inventory.restock" resultVariable="stock">
        <spiffworkflow:parameters><spiffworkflow:parameter id="items" type="list" value="[]"/></spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:exclusiveGateway id="done_yet" default="back"><bpmn:incoming>f3</bpmn:incoming>
    <bpmn:outgoing>to_end</bpmn:outgoing><bpmn:outgoing>back</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:endEvent id="done"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again"/>
  <bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="poll"/>
  <bpmn:sequenceFlow id="f3" sourceRef="poll" targetRef="done_yet"/>
  <bpmn:sequenceFlow id="to_end" sourceRef="done_yet" targetRef="done">
    <bpmn:conditionExpression>stock["done"] == True</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="back" sourceRef="done_yet" targetRef="again"/>""",
    "polling",
)


def bundle(source: bytes, key: str, *scenarios: dict) -> dict[str, str]:
    return {f"{key}.bpmn": source.decode(), f"{key}.tests.json": json.dumps({"scenarios": list(scenarios)})}


def one(files: dict[str, str], **kwargs) -> dict:
    [result] = run_process_tests(files, **kwargs)
    assert result.problems == [], result.problems
    [scenario] = result.scenarios
    return scenario.as_dict()


def counts() -> tuple:
    db.session.expire_all()
    return tuple(
        db.session.execute(db.select(db.func.count()).select_from(model)).scalar()
        for model in (Ticket, ProcessInstance, HistoryEvent, Job, Timer, LedgerEntry, ProcessDefinition)
    )


APPROVED = {
    "name": "approved and paid",
    "start": {"amount": 25.0},
    "tasks": {"decide": {"approve": True}},
    "services": {"pay": {"ledger_id": 7, "amount": 25.0}},
    "expect": {
        "path": ["start", "decide", "approved", "pay", "paid"],
        "skips": ["declined"],
        "status": "completed",
        "data": {"refund.ledger_id": 7},
    },
}


def test_a_scenario_that_meets_its_expectations_passes_with_the_path_it_took(app):
    result = one(bundle(REFUND, "refund_flow", APPROVED))
    assert result["passed"] is True, result
    assert result["path"] == ["start", "decide", "approved", "pay", "paid"]
    assert result["failed_element"] is None and result["waiting_at"] == []


def test_a_test_run_leaves_nothing_behind(app):
    before = counts()
    one(bundle(REFUND, "refund_flow", APPROVED))
    assert counts() == before


def test_a_path_not_taken_fails_at_the_element_it_missed(app):
    declined = {**APPROVED, "name": "declined", "tasks": {"decide": {"approve": False}}}
    result = one(bundle(REFUND, "refund_flow", declined))
    assert result["passed"] is False
    assert result["failed_element"] == "pay"
    assert "the path was to pass 'pay' after 'approved', but it went declined" in result["message"]
    assert result["path"] == ["start", "decide", "approved", "declined"]


def test_a_process_left_waiting_fails_at_the_task_the_scenario_gives_no_data_for(app):
    result = one(bundle(REFUND, "refund_flow", {"name": "no decision", "expect": {"status": "completed"}}))
    assert (result["passed"], result["failed_element"]) == (False, "decide")
    assert "was to be completed, but it is running; it waits at 'decide'" in result["message"]


def test_data_a_form_refuses_fails_at_the_task(app):
    form = {"type": "object", "required": ["approve"], "properties": {"approve": {"type": "boolean"}}}
    source = REFUND.replace(
        b'<bpmn:userTask id="decide" name="Decide">',
        b'<bpmn:userTask id="decide" name="Decide"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="formJsonSchemaFilename" value="decide.json"/>'
        b"</spiffworkflow:properties></bpmn:extensionElements>",
    )
    files = {**bundle(source, "refund_flow", {**APPROVED, "tasks": {"decide": {"approve": "yes"}}})}
    files["decide.json"] = json.dumps(form)
    result = one(files)
    assert result["failed_element"] == "decide"
    assert result["message"].startswith("user task 'decide' refuses the data: ")


def test_a_mocked_operator_never_calls_its_real_handler(app, monkeypatch):
    called = []
    monkeypatch.setitem(HANDLERS, "refund.issue", lambda params, ctx: called.append(params) or {})
    by_operator = {**APPROVED, "services": {"refund.issue": {"ledger_id": 7}}}
    for scenario in (APPROVED, by_operator):
        result = one(bundle(REFUND, "refund_flow", scenario))
        assert result["passed"] is True, result
        assert result["mocked"] == ["pay (refund.issue)"]
    assert called == []


def test_an_operator_the_scenario_does_not_mock_runs_its_handler_and_nothing_stays(app):
    real = {**APPROVED, "services": {}, "expect": {"status": "completed", "data": {"refund.kind": "refund"}}}
    before = counts()
    result = one(bundle(REFUND, "refund_flow", real))
    assert result["passed"] is True, result
    assert counts() == before  # the ledger row the handler wrote was rolled back


def test_a_looping_diagram_stops_at_the_step_limit(app):
    app.config["PROCESS_TEST_STEPS"] = 40
    loop = {"name": "never done", "services": {"poll": {"done": False}}, "expect": {"status": "completed"}}
    result = one(bundle(POLLING, "polling", loop))
    assert result["passed"] is False and result["failed_element"] == "poll"
    assert "stopped after 40 test steps (PROCESS_TEST_STEPS)" in result["message"]
    finished = {"name": "done at last", "services": {"poll": [{"done": False}, {"done": True}]}}
    assert one(bundle(POLLING, "polling", finished))["path"].count("poll") == 2


def test_a_run_past_its_time_budget_fails_instead_of_hanging(app):
    app.config["PROCESS_TEST_SECONDS"] = 0
    result = one(bundle(REFUND, "refund_flow", APPROVED))
    assert result["passed"] is False
    assert "ran out of time (PROCESS_TEST_SECONDS)" in result["message"]


def test_time_passing_fires_the_timers_due_within_it(app):
    files = lambda *events: bundle(  # noqa: E731
        timer_process('"P3D"'),
        "timed",
        {"name": "late", "events": list(events), "expect": {"waiting_at": ["escalated"]}},
    )
    assert (
        one(files({"advance": "P2D"}))["message"]
        == "the process was to wait at 'escalated'; it waits at 'work', 'sla'"
    )
    assert one(files({"advance": "P2D"}, {"advance": "PT23H59M"}))["passed"] is False
    assert one(files({"advance": "P2D"}, {"advance": "P1D"}))["passed"] is True
    assert one(files({"until": "sla"}))["passed"] is True


def test_an_event_at_a_point_waits_for_the_process_to_get_there(app):
    scenario = {
        "name": "escalated",
        "tasks": {"work": {"done": True}, "escalated": {"done": True}},
        "events": [{"until": "sla", "at": "work"}],
        "expect": {"path": ["sla", "escalated", "done_late"], "skips": ["done"], "status": "completed"},
    }
    assert one(bundle(timer_process('"P3D"'), "timed", scenario))["passed"] is True
    missing = {**scenario, "tasks": {}, "events": [{"advance": "P1D", "at": "nowhere"}]}
    result = one(bundle(timer_process('"P3D"'), "timed", missing))
    assert result["failed_element"] == "nowhere"
    assert (
        "was to happen when the process waits at 'nowhere', but it waits at 'work', 'sla'"
        in result["message"]
    )


def test_a_message_nothing_waits_for_fails_naming_where_the_process_waits(app):
    scenario = {"name": "stray", "events": [{"message": "customer_reply", "payload": {}}]}
    result = one(bundle(gateway_process("x == 1"), "gw", scenario))
    assert (
        "the message 'customer_reply' arrived but nothing waits for it (the process waits at 'decide')"
        in (result["message"])
    )


def test_problems_of_the_test_file_name_the_scenario_and_the_field():
    text = json.dumps(
        {"scenarios": [{"name": "rejected", "tasks": {"review": 3}, "events": [{"advance": "3 days"}]}]}
    )
    document, problems = parse_tests("return.tests.json", text)
    assert document is None
    messages = [p.message for p in problems]
    assert any(
        m.startswith("scenario 'rejected' field events[0].advance: '3 days' is not an ISO-8601 duration")
        for m in messages
    )
    assert any(m.startswith("scenario 'rejected' field tasks.review: ") for m in messages)
    assert all(p.file == "return.tests.json" for p in problems)


def test_a_bundle_with_a_broken_test_file_is_refused_and_nothing_runs(app):
    files = bundle(REFUND, "refund_flow", {"name": "x", "expect": {"status": "finished"}})
    with pytest.raises(DiagramRejected) as refused:
        deploy_bundle([(name, text.encode()) for name, text in files.items()])
    assert "scenario 'x' field expect.status" in refused.value.problems[0].message
    [result] = run_process_tests(files)
    assert result.scenarios == [] and "scenario 'x' field expect.status" in result.problems[0]["message"]


def test_the_test_file_is_deployed_with_its_process_and_changes_alone_make_a_version(app):
    files = bundle(REFUND, "refund_flow", APPROVED)
    deploy_bundle([(name, text.encode()) for name, text in files.items()])
    files["refund_flow.tests.json"] = json.dumps({"scenarios": [APPROVED, {**APPROVED, "name": "again"}]})
    result = deploy_bundle([(name, text.encode()) for name, text in files.items()])
    assert result.processes[0]["version"] == 2 and result.processes[0]["created"] is True
    row = result.definitions["refund_flow"]
    assert json.loads(row.dependencies["tests"])["scenarios"][1]["name"] == "again"


def test_a_broken_test_file_of_one_process_leaves_the_others_running(app):
    files = {**bundle(REFUND, "refund_flow", APPROVED), **bundle(POLLING, "polling")}
    files["polling.tests.json"] = json.dumps({"scenarios": [{"name": "x", "tasks": []}]})
    refund, polling = run_process_tests(files)
    assert refund.passed and [s.name for s in refund.scenarios] == ["approved and paid"]
    assert not polling.passed and "scenario 'x' field tasks" in polling.problems[0]["message"]
