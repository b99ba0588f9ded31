"""Timers: exact due times in the timer table, firing by the worker when the clock says so."""

from datetime import timedelta

from app.clock import utcnow
from app.engine import deploy, start_process
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Incident, Timer
from app.worker import drain
from tests.diagrams import timer_process
from tests.factories import make_customer


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
    fired = db.session.execute(db.select(db.func.count(HistoryEvent.id))
                               .where(HistoryEvent.kind == "timer_fired")).scalar()
    assert fired == 25
    escalated = db.session.execute(db.select(db.func.count(HumanTask.id))
                                   .where(HumanTask.name == "escalated")).scalar()
    assert escalated == 25


def test_timer_expression_failing_at_run_time_becomes_an_incident(app, clock):
    deploy(timer_process('sla_duration'))  # a variable the process never sets
    # The boundary timer is evaluated when the task opens, so the start itself reports it.
    from app.engine import StepFailed

    try:
        start_process("timed", make_customer().id, "SLA", {})
    except StepFailed as exc:
        assert exc.element_id == "sla"
    else:
        raise AssertionError("a broken timer must not start silently")
    assert db.session.execute(db.select(Incident)).first() is None
