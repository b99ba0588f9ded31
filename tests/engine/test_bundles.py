"""Deployment bundles: files checked together and stored all or nothing; what bundles make
possible (call activities across files, collaborations, event subprocesses, transactions,
resource assignment, fallback team)."""

import json

import pytest

from app.engine import DiagramRejected, complete_task, deliver_message, deploy, deploy_bundle, start_process
from app.extensions import db
from app.models import Deployment, FormDefinition, HumanTask, ProcessDefinition, ProcessInstance, Ticket
from tests.diagrams import HEADER, bpmn, service_task_process, user_task_process
from tests.factories import make_customer, make_team, make_user

FORM = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}
WITH_FORM = (
    '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
    'value="answer.json"/></spiffworkflow:properties>'
)


def _open_tasks(ticket_id: int) -> list[str]:
    return sorted(
        db.session.execute(db.select(HumanTask.name).where(HumanTask.ticket_id == ticket_id)).scalars()
    )


def _task(ticket_id: int, name: str) -> HumanTask:
    return db.session.execute(
        db.select(HumanTask).where(HumanTask.ticket_id == ticket_id, HumanTask.name == name)
    ).scalar_one()


def _instance(ticket_id: int) -> ProcessInstance:
    return db.session.execute(
        db.select(ProcessInstance).where(ProcessInstance.ticket_id == ticket_id)
    ).scalar_one()


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar()


def caller(called: str = "callee") -> bytes:
    """start -> call activity `call` (calledElement) -> user task `after` -> end."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:callActivity id="call" name="Ask" calledElement="{called}">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
  <bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
  <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after"/>
  <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="done"/>""",
        "main",
    )


def test_a_bundle_stores_processes_decisions_and_forms_together(app):
    result = deploy_bundle(
        [("tiny.bpmn", user_task_process(WITH_FORM)), ("answer.json", json.dumps(FORM).encode())]
    )
    assert result.created and result.processes[0]["key"] == "tiny" and result.processes[0]["new_type"]
    assert result.forms == [{"name": "answer.json", "version": 1, "created": True}]
    definition = result.definitions["tiny"]
    assert definition.deployment_id == result.deployment_id and definition.forms["answer.json"][
        "required"
    ] == ["answer"]
    again = deploy_bundle(
        [("tiny.bpmn", user_task_process(WITH_FORM)), ("answer.json", json.dumps(FORM).encode())]
    )
    assert not again.created and again.deployment_id == result.deployment_id and _count(Deployment) == 1


def test_a_changed_form_makes_a_new_version_and_running_tickets_keep_their_form(app):
    deploy_bundle([("tiny.bpmn", user_task_process(WITH_FORM)), ("answer.json", json.dumps(FORM).encode())])
    ticket, _ = start_process("tiny", make_customer().id, "Old form", {})
    changed = {**FORM, "properties": {"answer": {"type": "string", "maxLength": 3}}}
    result = deploy_bundle(
        [("tiny.bpmn", user_task_process(WITH_FORM)), ("answer.json", json.dumps(changed).encode())]
    )
    assert result.processes[0]["version"] == 2 and result.forms[0]["version"] == 2
    complete_task(
        _task(ticket.id, "do_it").id, {"answer": "longer than three"}, None
    )  # the v1 form allows it
    assert _instance(ticket.id).status == "completed"


def test_one_problem_anywhere_refuses_the_whole_bundle_listing_every_file(app):
    broken_form = b'{"type": "object", "properties": '
    with pytest.raises(DiagramRejected) as caught:
        deploy_bundle(
            [
                ("good.bpmn", user_task_process(WITH_FORM, "good")),
                ("answer.json", broken_form),
                ("bad.bpmn", service_task_process("payments.steal")),
            ]
        )
    files = {p.file for p in caught.value.problems}
    assert files == {"answer.json", "bad.bpmn"}
    assert (_count(ProcessDefinition), _count(FormDefinition), _count(Deployment)) == (0, 0, 0)


def test_a_call_activity_runs_a_process_from_another_file_of_the_bundle(app):
    result = deploy_bundle([("main.bpmn", caller()), ("callee.bpmn", user_task_process(process_id="callee"))])
    assert {p["key"] for p in result.processes} == {"main", "callee"}
    assert result.definitions["main"].dependencies["bpmn"].keys() == {"callee.bpmn"}
    ticket, _ = start_process("main", make_customer().id, "Across files", {})
    assert _open_tasks(ticket.id) == ["do_it"]  # the task of the called process
    complete_task(_task(ticket.id, "do_it").id, {}, None)
    assert _open_tasks(ticket.id) == ["after"]


def test_a_call_activity_resolves_an_already_deployed_process(app):
    deploy(user_task_process(process_id="callee"))
    definition, created = deploy(caller())
    assert created and definition.key == "main"
    ticket, _ = start_process("main", make_customer().id, "Deployed callee", {})
    assert _open_tasks(ticket.id) == ["do_it"]


def test_a_call_to_a_process_that_exists_nowhere_names_the_call_activity(app):
    with pytest.raises(DiagramRejected) as caught:
        deploy(caller("nowhere"))
    assert any(p.element_id == "call" and "nowhere" in p.message for p in caught.value.problems)


EVENT_SUBPROCESS = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done"/>
  <bpmn:subProcess id="on_cancel" triggeredByEvent="true">
    <bpmn:startEvent id="cancel_asked" isInterrupting="true">
      <bpmn:outgoing>e1</bpmn:outgoing>
      <bpmn:messageEventDefinition id="cancel_def" messageRef="cancel_msg"/>
    </bpmn:startEvent>
    <bpmn:userTask id="handle_cancel" name="Handle the cancellation">
      <bpmn:incoming>e1</bpmn:incoming><bpmn:outgoing>e2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="cancel_done"><bpmn:incoming>e2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="e1" sourceRef="cancel_asked" targetRef="handle_cancel"/>
    <bpmn:sequenceFlow id="e2" sourceRef="handle_cancel" targetRef="cancel_done"/>
  </bpmn:subProcess>"""


def test_a_message_event_subprocess_runs_and_does_not_leak_into_other_tickets(app):
    deploy(bpmn(EVENT_SUBPROCESS, "esp", extra='<bpmn:message id="cancel_msg" name="cancel_request"/>'))
    customer = make_customer()
    first, _ = start_process("esp", customer.id, "First", {})
    deliver_message(first.id, "cancel_request", {})
    # SpiffWorkflow 3.2 starts a message-triggered event subprocess beside the main path.
    assert _open_tasks(first.id) == ["handle_cancel", "work"]
    second, _ = start_process("esp", customer.id, "Second", {})
    assert _open_tasks(second.id) == ["work"]  # the first ticket's trigger changed nothing here
    complete_task(_task(first.id, "handle_cancel").id, {}, None)  # loads with the trigger put back
    complete_task(_task(first.id, "work").id, {}, None)
    complete_task(_task(second.id, "work").id, {}, None)
    assert (_instance(first.id).status, _instance(second.id).status) == ("completed", "completed")


TRANSACTION = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:transaction id="booking">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:startEvent id="t_start"><bpmn:outgoing>t1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="confirm" name="Confirm"><bpmn:incoming>t1</bpmn:incoming><bpmn:outgoing>t2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="ok" default="t_fine"><bpmn:incoming>t2</bpmn:incoming>
      <bpmn:outgoing>t_fine</bpmn:outgoing><bpmn:outgoing>t_cancel</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="t_end"><bpmn:incoming>t_fine</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="t_cancelled"><bpmn:incoming>t_cancel</bpmn:incoming>
      <bpmn:cancelEventDefinition id="cancel_end"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="t1" sourceRef="t_start" targetRef="confirm"/>
    <bpmn:sequenceFlow id="t2" sourceRef="confirm" targetRef="ok"/>
    <bpmn:sequenceFlow id="t_fine" sourceRef="ok" targetRef="t_end"/>
    <bpmn:sequenceFlow id="t_cancel" sourceRef="ok" targetRef="t_cancelled">
      <bpmn:conditionExpression>confirmed == False</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:transaction>
  <bpmn:boundaryEvent id="was_cancelled" attachedToRef="booking"><bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:cancelEventDefinition id="cancel_catch"/></bpmn:boundaryEvent>
  <bpmn:userTask id="booked" name="Booked"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="undo" name="Undo the booking"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_booked"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="end_undone"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="booking"/>
  <bpmn:sequenceFlow id="f2" sourceRef="booking" targetRef="booked"/>
  <bpmn:sequenceFlow id="f3" sourceRef="was_cancelled" targetRef="undo"/>
  <bpmn:sequenceFlow id="f4" sourceRef="booked" targetRef="end_booked"/>
  <bpmn:sequenceFlow id="f5" sourceRef="undo" targetRef="end_undone"/>"""


@pytest.mark.parametrize(("confirmed", "next_task"), [(False, "undo"), (True, "booked")])
def test_a_transaction_cancel_end_event_leaves_by_its_cancel_boundary(app, confirmed, next_task):
    deploy(bpmn(TRANSACTION, "booking_flow"))
    ticket, _ = start_process("booking_flow", make_customer().id, "Book", {})
    complete_task(_task(ticket.id, "confirm").id, {"confirmed": confirmed}, None)
    assert _open_tasks(ticket.id) == [next_task]


COLLABORATION = f"""{HEADER}
  <bpmn:collaboration id="collab">
    <bpmn:participant id="p_shop" processRef="shop"/>
    <bpmn:participant id="p_warehouse" processRef="warehouse"/>
    <bpmn:messageFlow id="mf" sourceRef="ask_stock" targetRef="stock_asked"/>
  </bpmn:collaboration>
  <bpmn:message id="stock_msg" name="stock_request"/>
  <bpmn:process id="shop" isExecutable="true">
    <bpmn:startEvent id="shop_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="ask_stock"><bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="ask_def" messageRef="stock_msg"/></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="sell" name="Sell"><bpmn:incoming>s2</bpmn:incoming><bpmn:outgoing>s3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="shop_end"><bpmn:incoming>s3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="s1" sourceRef="shop_start" targetRef="ask_stock"/>
    <bpmn:sequenceFlow id="s2" sourceRef="ask_stock" targetRef="sell"/>
    <bpmn:sequenceFlow id="s3" sourceRef="sell" targetRef="shop_end"/>
  </bpmn:process>
  <bpmn:process id="warehouse" isExecutable="true">
    <bpmn:startEvent id="stock_asked"><bpmn:outgoing>w1</bpmn:outgoing>
      <bpmn:messageEventDefinition id="asked_def" messageRef="stock_msg"/></bpmn:startEvent>
    <bpmn:userTask id="count" name="Count the stock"><bpmn:incoming>w1</bpmn:incoming><bpmn:outgoing>w2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="w_end"><bpmn:incoming>w2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="w1" sourceRef="stock_asked" targetRef="count"/>
    <bpmn:sequenceFlow id="w2" sourceRef="count" targetRef="w_end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_collaboration_runs_both_pools_in_one_ticket(app):
    result = deploy_bundle([("shop.bpmn", COLLABORATION.encode())])
    assert result.definitions["shop"].dependencies["collaboration"] == "collab"
    ticket, _ = start_process("shop", make_customer().id, "Two pools", {})
    assert _open_tasks(ticket.id) == ["count", "sell"]  # the message started the warehouse pool
    complete_task(_task(ticket.id, "count").id, {}, None)
    complete_task(_task(ticket.id, "sell").id, {}, None)
    assert _instance(ticket.id).status == "completed"
    assert db.session.get(Ticket, ticket.id).status == "closed"


def _owned(kind: str, expression: str) -> bytes:
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="do_it" name="Do it"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:{kind}><bpmn:resourceAssignmentExpression><bpmn:formalExpression>{expression}</bpmn:formalExpression>
    </bpmn:resourceAssignmentExpression></bpmn:{kind}></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="do_it"/>
  <bpmn:sequenceFlow id="f2" sourceRef="do_it" targetRef="done"/>""",
        "owned",
    )


@pytest.mark.parametrize(
    ("kind", "expression", "team", "assignee"),
    [
        ("potentialOwner", "billing", "billing", "bob"),
        ("potentialOwner", "group(billing)", "billing", "bob"),
        ("humanPerformer", "user(dave)", "support", "dave"),
        ("humanPerformer", "${agent}", "support", "dave"),
    ],
)
def test_potential_owner_and_human_performer_name_the_team_or_the_user(app, kind, expression, team, assignee):
    make_team("billing")
    make_user("bob", teams=("billing",))
    dave = make_user("dave", teams=("support",))
    deploy(_owned(kind, expression))
    ticket, _ = start_process("owned", make_customer().id, "Owned", {"agent": "dave"})
    task = _task(ticket.id, "do_it")
    assert (task.team, db.session.get(type(dave), task.assignee_id).username) == (team, assignee)


def test_a_lane_naming_no_team_is_a_warning_and_its_tasks_go_to_the_fallback_team(app):
    make_user("sam", teams=("support",))
    laned = user_task_process().replace(
        b'<bpmn:startEvent id="start">',
        b"""<bpmn:laneSet id="ls">
    <bpmn:lane id="lane_x" name="Back office"><bpmn:flowNodeRef>do_it</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start">""",
    )
    result = deploy_bundle([("laned.bpmn", laned)])
    assert [(w.element_id, "Back office" in w.message) for w in result.warnings] == [("do_it", True)]
    ticket, _ = start_process("tiny", make_customer().id, "Laned", {})
    task = _task(ticket.id, "do_it")
    assert task.team == app.config["DEFAULT_TEAM"] == "support" and task.assignee_id is not None


def test_camunda_specific_service_tasks_are_refused_with_what_to_write_instead(app):
    camunda = (
        user_task_process()
        .replace(
            b'<bpmn:userTask id="do_it" name="Do it">',
            b'<bpmn:serviceTask id="do_it" name="Do it" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
            b'camunda:class="com.acme.Refund">',
        )
        .replace(b"</bpmn:userTask>", b"</bpmn:serviceTask>")
    )
    with pytest.raises(DiagramRejected) as caught:
        deploy(camunda)
    [problem] = caught.value.problems
    assert problem.element_id == "do_it" and "spiffworkflow:serviceTaskOperator" in problem.message
    assert "refund.issue" in problem.message  # the operators this server has


TIMER_ESP = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done"/>
  <bpmn:subProcess id="reminder" triggeredByEvent="true">
    <bpmn:startEvent id="nudge" isInterrupting="false"><bpmn:outgoing>r1</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:userTask id="remind" name="Remind"><bpmn:incoming>r1</bpmn:incoming><bpmn:outgoing>r2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="reminded"><bpmn:incoming>r2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="r1" sourceRef="nudge" targetRef="remind"/>
    <bpmn:sequenceFlow id="r2" sourceRef="remind" targetRef="reminded"/>
  </bpmn:subProcess>"""


def test_a_timer_event_subprocess_fires_beside_the_main_path(app, clock):
    from datetime import timedelta

    from app.worker import drain

    deploy(bpmn(TIMER_ESP, "esp2"))
    ticket, _ = start_process("esp2", make_customer().id, "Remind me", {})
    assert _open_tasks(ticket.id) == ["work"]
    clock.shift(timedelta(hours=2))
    assert drain() == 1  # the worker fired the event subprocess's timer start
    assert _open_tasks(ticket.id) == ["remind", "work"]
    complete_task(_task(ticket.id, "remind").id, {}, None)
    complete_task(_task(ticket.id, "work").id, {}, None)
    assert _instance(ticket.id).status == "completed"
