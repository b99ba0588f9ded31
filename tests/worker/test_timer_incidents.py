"""A timer that cannot fire becomes an incident: parked, visible, retried on request, never looping."""

from datetime import timedelta

from app.clock import utcnow
from app.engine import deploy, retry_incident, start_process
from app.extensions import db
from app.models import HistoryEvent, Incident, ProcessInstance
from app.worker import drain
from tests.factories import make_customer
from tests.worker.diagrams import timer_then_timer, tiny_timer
from tests.worker.rows import fired, fresh, open_tasks, timers


def start(key: str) -> ProcessInstance:
    _, instance = start_process(key, make_customer().id, "Broken timer", {})
    return instance


def incidents() -> list[Incident]:
    fresh()
    return list(db.session.execute(db.select(Incident).order_by(Incident.id)).scalars())


def status_of(instance: ProcessInstance) -> str:
    fresh()
    return db.session.get(ProcessInstance, instance.id).status


def test_timer_whose_next_timer_expression_fails_becomes_an_incident(app, clock):
    deploy(timer_then_timer("follow_up_after"))  # a variable the process never sets
    instance = start("twice")
    [first] = timers()
    clock.shift(timedelta(hours=1))
    assert drain() == 1
    [incident] = incidents()
    assert (incident.kind, incident.timer_id, incident.element_id) == ("timer", first.id, "second")
    assert "follow_up_after" in incident.message
    assert incident.resolved_at is None
    assert status_of(instance) == "incident"
    assert fired() == []  # nothing of the failed step was kept


def test_failed_timer_is_parked_and_not_fired_again_by_later_rounds(app, clock):
    deploy(timer_then_timer("follow_up_after"))
    start("twice")
    clock.shift(timedelta(hours=1))
    drain()
    [row] = timers()
    assert (row.due_at, row.lease_until) == (None, None)
    clock.shift(timedelta(days=2))
    assert drain() == 0
    assert len(incidents()) == 1


def test_retrying_the_incident_rearms_the_timer_now(app, clock):
    deploy(timer_then_timer("follow_up_after"))
    instance = start("twice")
    clock.shift(timedelta(hours=1))
    drain()
    [incident] = incidents()
    clock.shift(timedelta(minutes=5))
    retry_incident(incident.id, actor="manager")
    [row] = timers()
    assert row.due_at == utcnow()
    assert status_of(instance) == "running"
    assert drain() == 1  # fired again at once: the expression still fails, the incident stays open
    [again] = incidents()
    assert (again.id, again.resolved_at, again.timer_id) == (incident.id, None, row.id)


def test_timer_that_cannot_even_load_its_instance_becomes_an_incident_and_others_still_fire(app, clock):
    deploy(tiny_timer())
    broken = start("tick")
    healthy = start("tick")
    saved = broken.workflow
    db.session.execute(
        db.update(ProcessInstance)
        .where(ProcessInstance.id == broken.id)
        .values(workflow=saved.replace('"serializer_version":"1.5"', '"serializer_version":"1.0"'))
    )
    db.session.commit()
    clock.shift(timedelta(hours=1))
    assert drain() == 2
    [incident] = incidents()
    assert incident.instance_id == broken.id and "serializer version" in incident.message
    assert status_of(healthy) == "completed"


def test_retry_after_the_cause_is_fixed_fires_the_timer_and_the_process_moves_on(app, clock):
    deploy(tiny_timer())
    instance = start("tick")
    saved = instance.workflow
    db.session.execute(
        db.update(ProcessInstance)
        .where(ProcessInstance.id == instance.id)
        .values(workflow=saved.replace('"serializer_version":"1.5"', '"serializer_version":"1.0"'))
    )
    db.session.commit()
    clock.shift(timedelta(hours=1))
    drain()
    [incident] = incidents()
    db.session.execute(
        db.update(ProcessInstance).where(ProcessInstance.id == instance.id).values(workflow=saved)
    )  # an operator repairs the row
    db.session.commit()
    retry_incident(incident.id)
    assert drain() == 1
    assert status_of(instance) == "completed"
    assert [element for element, _ in fired()] == ["pause"]
    assert timers() == [] and open_tasks() == []
    retried = db.session.execute(
        db.select(db.func.count(HistoryEvent.id)).where(HistoryEvent.kind == "incident_retried")
    ).scalar()
    assert retried == 1
