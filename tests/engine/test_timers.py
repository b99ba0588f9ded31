"""Timers: exact due times in the timer table, firing by the worker when the clock says so."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.engine import StepFailed, deploy, start_process
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Incident, ProcessInstance, Ticket, Timer
from app.worker import drain
from tests.diagrams import bpmn, timer_process
from tests.factories import make_customer

# start -> timer `pause` (PT1H) -> user task `work` with boundary timer `sla` (sla_duration, never set)
WAIT_THEN_TIMED = bpmn(
    """
  <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="pause"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="work" name="Work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:boundaryEvent id="sla" name="SLA" attachedToRef="work">
    <bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>sla_duration</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="escalated" name="Escalated"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="done_late"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="pause"/>
  <bpmn:sequenceFlow id="f1" sourceRef="pause" targetRef="work"/>
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done"/>
  <bpmn:sequenceFlow id="f3" sourceRef="sla" targetRef="escalated"/>
  <bpmn:sequenceFlow id="f4" sourceRef="escalated" targetRef="done_late"/>""",
    "paused_then_timed",
)


def test_waiting_timer_has_a_row_with_its_exact_due_time(app, clock):
    deploy(timer_process('"PT48H"'))
    start_process("timed", make_customer().id, "SLA", {})
    timer = db.session.execute(db.select(Timer)).scalar_one()
    assert timer.element_id == "sla"
    assert timer.due_at == utcnow() + timedelta(hours=48)
    task = db.session.execute(db.select(HumanTask)).scalar_one()
    assert task.due_at == timer.due_at


def test_boundary_timer_fires_only_when_due_and_escalates(app, clock):
    deploy(timer_process('"PT48H"'))
    start_process("timed", make_customer().id, "SLA", {})
    clock.shift(timedelta(hours=47))
    assert drain() == 0
    clock.shift(timedelta(hours=2))
    assert drain() == 1
    names = db.session.execute(db.select(HumanTask.name)).scalars().all()
    assert names == ["escalated"]
    assert db.session.execute(db.select(Timer)).first() is None


def test_completing_the_task_cancels_its_timer(app, clock):
    from app.engine import complete_task

    deploy(timer_process('"PT1H"'))
    start_process("timed", make_customer().id, "SLA", {})
    task_id = db.session.execute(db.select(HumanTask.id)).scalar_one()
    complete_task(task_id, {}, None)
    assert db.session.execute(db.select(Timer)).first() is None


def test_timers_due_while_no_worker_ran_all_fire_exactly_once(app, clock):
    deploy(timer_process('"PT1H"'))
    customer = make_customer()
    for i in range(25):
        start_process("timed", customer.id, f"SLA {i}", {})
    clock.shift(timedelta(days=3))  # the worker was down for three days
    assert drain() == 25
    assert drain() == 0
    fired = db.session.execute(
        db.select(db.func.count(HistoryEvent.id)).where(HistoryEvent.kind == "timer_fired")
    ).scalar()
    assert fired == 25
    escalated = db.session.execute(
        db.select(db.func.count(HumanTask.id)).where(HumanTask.name == "escalated")
    ).scalar()
    assert escalated == 25


def test_timer_expression_failing_at_start_is_refused_and_nothing_is_saved(app, clock):
    deploy(timer_process("sla_duration"))  # a variable the process never sets
    # The boundary timer is evaluated when the task opens, so the start itself reports it.
    with pytest.raises(StepFailed) as failed:
        start_process("timed", make_customer().id, "SLA", {})
    assert failed.value.element_id == "sla"
    db.session.rollback()
    for model in (Ticket, ProcessInstance, Timer, Incident):  # the caller hears it; no incident
        assert db.session.execute(db.select(db.func.count()).select_from(model)).scalar() == 0


def test_timer_expression_failing_at_run_time_becomes_an_incident(app, clock):
    deploy(WAIT_THEN_TIMED)
    ticket, instance = start_process(
        "paused_then_timed", make_customer().id, "SLA", {}
    )  # waits an hour first
    [waiting] = db.session.execute(db.select(Timer)).scalars().all()
    clock.shift(timedelta(hours=1))
    # The worker fires `pause`; the task that opens next evaluates its boundary timer: it fails there.
    assert drain() == 1
    db.session.expire_all()
    [incident] = db.session.execute(db.select(Incident)).scalars().all()
    assert (incident.kind, incident.instance_id, incident.ticket_id) == ("timer", instance.id, ticket.id)
    assert (incident.timer_id, incident.element_id) == (waiting.id, "sla")
    assert "sla_duration" in incident.message and incident.resolved_at is None
    assert db.session.get(ProcessInstance, instance.id).status == "incident"
    assert db.session.execute(db.select(HumanTask)).first() is None  # nothing of the failed step was kept
    assert db.session.get(Timer, waiting.id).due_at is None  # parked: later rounds leave it alone
    clock.shift(timedelta(days=1))
    assert drain() == 0
