"""How processes end and tasks close, as the API sees it: a ticket whose process ends without a
final status is `closed` (`cancelled` when cancelled), a status the process set stays; a task a
timer cancelled answers 409 saying so; a command that keeps losing races answers 409, never 500."""

from datetime import timedelta

from sqlalchemy.orm.exc import StaleDataError

from app.engine import cancel_instance, complete_task, deploy, start_process
from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessInstance, Ticket
from app.worker import drain
from tests.diagrams import bpmn, timer_process, user_task_process


def _kinds(ticket_id: int) -> list[str]:
    return list(
        db.session.execute(
            db.select(HistoryEvent.kind).where(HistoryEvent.ticket_id == ticket_id).order_by(HistoryEvent.id)
        ).scalars()
    )


def _ticket(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


def test_a_process_that_ends_without_a_status_closes_its_ticket(staff, shipped):
    deploy(user_task_process(), actor="test")
    created = (
        staff["admin"]
        .post(
            "/api/v1/tickets",
            json={"type": "tiny", "customer_id": shipped.id, "subject": "Plain", "data": {}},
        )
        .json
    )
    assert created["status"] == "new"
    [task] = staff["admin"].get(f"/api/v1/tasks?ticket_id={created['id']}").json["tasks"]
    assert staff["admin"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}).status_code == 200
    detail = staff["admin"].get(f"/api/v1/tickets/{created['id']}").json
    assert (detail["status"], detail["instance"]["status"]) == ("closed", "completed")
    assert detail["sla"]["state"] in ("met", "breached")  # the clock stopped
    closed = [h for h in detail["history"] if h["kind"] == "ticket_closed"]
    assert closed[0]["data"]["status"] == "closed" and closed[0]["data"]["previous"] == "new"
    listed = staff["admin"].get("/api/v1/tickets?status=closed").json["tickets"]
    assert [t["id"] for t in listed] == [created["id"]]


def test_a_status_the_process_set_itself_is_kept(app, shipped):
    deploy(
        bpmn(
            """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="set_status" name="No response">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="ticket.set_status" resultVariable="result">
        <spiffworkflow:parameters>
          <spiffworkflow:parameter id="status" type="str" value="&quot;no_response&quot;"/>
        </spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="set_status"/>
  <bpmn:sequenceFlow id="f2" sourceRef="set_status" targetRef="done"/>""",
            "quiet",
        ),
        actor="test",
    )
    ticket, instance = start_process("quiet", shipped.id, "Gone quiet", {})
    drain()
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
    assert _ticket(ticket.id).status == "no_response"
    assert "ticket_closed" not in _kinds(ticket.id)


def test_a_cancelled_instance_cancels_its_ticket(app, shipped):
    deploy(user_task_process(), actor="test")
    ticket, instance = start_process("tiny", shipped.id, "Never mind", {})
    task_id = db.session.execute(db.select(HumanTask.id)).scalar_one()
    cancel_instance(instance.id, actor="max")
    assert _ticket(ticket.id).status == "cancelled"
    assert db.session.get(ProcessInstance, instance.id).status == "cancelled"
    kinds = _kinds(ticket.id)
    assert kinds.count("instance_cancelled") == 1 and "ticket_closed" in kinds
    row = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "task_cancelled")
    ).scalar_one()
    assert row.task_id == task_id and "cancelling the process (max)" in row.data["reason"]


def test_a_task_a_boundary_timer_cancelled_answers_409_with_the_reason(staff, shipped, clock):
    deploy(timer_process('"PT1H"'), actor="test")
    ticket, _ = start_process("timed", shipped.id, "SLA", {})
    task_id = db.session.execute(db.select(HumanTask.id)).scalar_one()
    clock.shift(timedelta(hours=2))
    assert drain() == 1  # the interrupting timer `sla` fired: `work` is cancelled, `escalated` opens
    answer = staff["admin"].post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}})
    assert answer.status_code == 409, answer.json
    message = answer.json["error"]
    assert "no longer open: escalated at 2026-11-23 11:00 UTC" in message
    assert "timer 'SLA' (sla)" in message and "'Work'" in message
    assert staff["admin"].post(f"/api/v1/tasks/{task_id}/claim").status_code == 409
    row = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "task_cancelled")
    ).scalar_one()
    assert (row.element_id, row.task_id, row.data["by_element_id"]) == ("work", task_id, "sla")


def test_a_completed_task_answers_409_saying_who_completed_it(staff, shipped, clock):
    deploy(user_task_process(), actor="test")
    start_process("tiny", shipped.id, "Done", {})
    task_id = db.session.execute(db.select(HumanTask.id)).scalar_one()
    assert staff["admin"].post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}}).status_code == 200
    again = staff["manager"].post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}})
    assert again.status_code == 409
    assert again.json["error"] == "task 'Do it' is no longer open: completed at 2026-11-23 09:00 UTC by admin"


def test_a_task_completed_elsewhere_is_not_reported_cancelled(app, shipped):
    """Completing one of two parallel tasks writes no task_cancelled row for anything."""
    from tests.diagrams import parallel_process

    deploy(parallel_process(), actor="test")
    start_process("par", shipped.id, "Both", {})
    for name in ("left", "right"):
        task_id = db.session.execute(db.select(HumanTask.id).where(HumanTask.name == name)).scalar_one()
        complete_task(task_id, {}, None)
    assert (
        db.session.execute(db.select(HistoryEvent).where(HistoryEvent.kind == "task_cancelled")).first()
        is None
    )


def test_a_command_that_keeps_conflicting_answers_409(staff, shipped, monkeypatch):
    deploy(user_task_process(), actor="test")
    start_process("tiny", shipped.id, "Busy", {})
    task_id = db.session.execute(db.select(HumanTask.id)).scalar_one()
    calls = []

    def stale(*args, **kwargs):
        calls.append(1)
        raise StaleDataError(
            "UPDATE statement on table 'process_instance' expected to update 1 row(s); 0 were matched."
        )

    monkeypatch.setattr("app.engine.commands.tasks.save", stale)
    answer = staff["admin"].post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}})
    assert answer.status_code == 409, answer.json
    assert "try again" in answer.json["error"] and "5 times" in answer.json["error"]
    assert len(calls) == 5
    monkeypatch.undo()
    assert db.session.get(HumanTask, task_id) is not None  # nothing was saved
    assert staff["admin"].post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}}).status_code == 200
