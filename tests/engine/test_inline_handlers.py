"""Service tasks whose handler keeps its effect in our database run inside the command (no job).

A handler registered `inline=True` (a status, an outbox row, a deadline) is run by the command that
reaches its task, in the same transaction: a new general ticket reaches its assigned first task
in one commit. Its rows roll back with the command; a failing inline handler becomes a job as
before; money stays a job.
"""

import pytest
from sqlalchemy import event

from app.engine import complete_task, deploy, start_process
from app.extensions import db
from app.handlers import INLINE
from app.models import (
    HistoryEvent,
    HumanTask,
    Incident,
    Job,
    LedgerEntry,
    OutboxMessage,
    ProcessInstance,
    Ticket,
)
from app.worker import drain
from tests.diagrams import bpmn, service_task_process
from tests.factories import deploy_shipped, make_customer, make_user

GENERAL = {"question": "Why was I charged twice?", "category": "payment"}
NOTIFY = (
    '<spiffworkflow:parameter id="subject" type="str" value="&quot;Hello&quot;"/>'
    '<spiffworkflow:parameter id="body" type="str" value="&quot;We are on it.&quot;"/>'
)


@pytest.fixture
def commits():
    """The number of transactions committed on the database while the test runs."""
    counted = []

    def count(_connection):
        counted.append(1)

    event.listen(db.engine, "commit", count)
    yield counted
    event.remove(db.engine, "commit", count)


def _kinds(ticket_id: int) -> list[tuple[str, str | None]]:
    return db.session.execute(
        db.select(HistoryEvent.kind, HistoryEvent.element_id)
        .where(HistoryEvent.ticket_id == ticket_id)
        .order_by(HistoryEvent.id)
    ).all()


def test_a_new_general_ticket_reaches_its_assigned_first_task_in_one_transaction(app, commits):
    deploy_shipped("general")
    agent = make_user("alice", teams=("support",))
    customer_id = make_customer().id
    commits.clear()

    ticket, _ = start_process("general", customer_id, "Charged twice", GENERAL, actor="jane")

    assert len(commits) == 1
    assert db.session.execute(db.select(Job)).first() is None
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    assert (task.name, task.assignee_id) == ("answer_question", agent.id)
    assert db.session.get(Ticket, ticket.id).status == "in_progress"
    assert drain() == 0


def test_inline_service_tasks_are_recorded_in_the_order_the_process_passed_them(app):
    deploy_shipped("general")
    make_user("alice", teams=("support",))
    ticket, _ = start_process("general", make_customer().id, "Charged twice", GENERAL, actor="jane")

    passed = [(k, e) for k, e in _kinds(ticket.id) if k in ("element_completed", "service_completed")]
    assert passed.index(("service_completed", "set_status_new")) < passed.index(
        ("service_completed", "set_status_in_progress")
    )
    assert passed.index(("element_completed", "start_general")) < passed.index(
        ("service_completed", "set_status_new")
    )
    assert ("element_completed", "set_status_new") not in passed  # its own row is service_completed


def test_an_inline_handler_s_rows_roll_back_with_its_command(app):
    deploy(service_task_process("notify.customer", NOTIFY))
    customer_id = make_customer().id

    def refuse(_conn, _cursor, statement, _parameters, _context, _many):
        if "INSERT INTO HISTORY_EVENT" in statement.upper():  # alone, or in the counters statement
            raise RuntimeError("the disk is full")

    event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        with pytest.raises(Exception, match="the disk is full"):
            start_process("svc", customer_id, "Hello", {})
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse)
    db.session.rollback()
    assert db.session.execute(db.select(OutboxMessage)).first() is None
    assert db.session.execute(db.select(Ticket)).first() is None


def test_an_inline_handler_writes_its_outbox_row_once_in_the_command(app):
    deploy(service_task_process("notify.customer", NOTIFY))
    ticket, _ = start_process("svc", make_customer().id, "Hello", {})

    [mail] = db.session.execute(db.select(OutboxMessage)).scalars().all()
    assert (mail.ticket_id, mail.subject) == (ticket.id, f"[Ticket #{ticket.id}] Hello")
    assert db.session.execute(db.select(Job)).first() is None
    assert drain() == 0
    assert db.session.execute(db.select(db.func.count(OutboxMessage.id))).scalar() == 1


def test_an_inline_handler_that_refuses_is_rolled_back_and_left_to_the_worker_as_a_job(app, clock):
    deploy(
        service_task_process(
            "ticket.set_status", '<spiffworkflow:parameter id="status" type="str" value="&quot;bogus&quot;"/>'
        )
    )
    ticket, instance = start_process("svc", make_customer().id, "Status", {})

    job = db.session.execute(db.select(Job)).scalar_one()
    assert (job.operator, job.status, job.element_id) == ("ticket.set_status", "pending", "call")
    assert ("service_completed", "call") not in _kinds(ticket.id)
    drain()
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert "unknown status 'bogus'" in incident.message


def test_a_step_failing_after_an_inline_task_keeps_the_ticket_with_an_incident(app):
    deploy(
        bpmn(
            """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="call" name="Call">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="ticket.set_status" resultVariable="result">
        <spiffworkflow:parameters>
          <spiffworkflow:parameter id="status" type="str" value="&quot;in_progress&quot;"/>
        </spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:scriptTask id="compute" name="Compute"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f3</bpmn:outgoing><bpmn:script>total = not_there + 1</bpmn:script></bpmn:scriptTask>
  <bpmn:userTask id="after" name="After"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
  <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="compute"/>
  <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="after"/>
  <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="done"/>""",
            "svc",
        )
    )
    ticket, instance = start_process("svc", make_customer().id, "Status", {})

    assert db.session.get(Ticket, ticket.id).status == "in_progress"
    assert db.session.get(ProcessInstance, instance.id).status == "incident"
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.element_id == "compute" and "not_there" in incident.message


def test_money_moves_in_a_job_never_inline(app):
    assert {"refund.issue", "credit_note.issue", "credit.assign_balance"}.isdisjoint(INLINE)
    deploy(
        service_task_process("refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="10"/>')
    )
    start_process("svc", make_customer().id, "Refund", {})
    assert db.session.execute(db.select(LedgerEntry)).first() is None
    assert db.session.execute(db.select(Job.operator)).scalar_one() == "refund.issue"
    assert drain() == 1
    assert db.session.execute(db.select(db.func.count(LedgerEntry.id))).scalar() == 1


def test_completing_a_task_runs_the_next_inline_service_tasks_in_the_same_command(app):
    deploy_shipped("general")
    agent = make_user("alice", teams=("support",))
    ticket, _ = start_process("general", make_customer().id, "Charged twice", GENERAL, actor="jane")
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()

    complete_task(task.id, {"information_given": True, "answer": "Refunded the second charge."}, agent)

    assert db.session.execute(db.select(Job)).first() is None
    outbox = db.session.execute(db.select(OutboxMessage)).scalars().all()
    assert len(outbox) == 1 and "Refunded the second charge." in outbox[0].body
    assert db.session.get(Ticket, ticket.id).status == "closed"
