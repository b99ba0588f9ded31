"""Retrying an incident after editing the process data: the exact change, applied with the retry in
one transaction, recorded by key; refused edits change nothing. And the viewer's element states."""

from datetime import timedelta

import pytest

from app.engine import (
    Conflict,
    InvalidData,
    cancel_instance,
    data_changes,
    element_states,
    fingerprint,
    incident_data,
    move_timers,
    retry_incident,
    start_process,
)
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance, Ticket, Timer
from app.worker import drain
from tests.dashboard.diagrams import REFUND_XML
from tests.factories import make_customer


@pytest.fixture
def failed_refund(app, clock):
    """A refund ticket whose handler refused amount -5: an open incident at issue_refund."""
    from app.engine import deploy

    deploy(REFUND_XML)
    ticket, instance = start_process("refund", make_customer().id, "Refund", {"amount": -5, "note": "x"})
    drain()
    incident = db.session.execute(db.select(Incident)).scalar_one()
    return ticket.id, instance.id, incident.id


def _history(instance_id, kind):
    return (
        db.session.execute(
            db.select(HistoryEvent).where(HistoryEvent.instance_id == instance_id, HistoryEvent.kind == kind)
        )
        .scalars()
        .all()
    )


def test_data_changes_lists_added_removed_and_changed_keys_with_old_and_new():
    assert data_changes({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4}) == {
        "added": {"d": 4},
        "removed": {"c": 3},
        "changed": {"b": {"old": 2, "new": 5}},
    }


def test_incident_data_is_the_data_the_failed_step_ran_on(failed_refund):
    _, _, incident_id = failed_refund
    data = incident_data(incident_id)
    assert (data["amount"], data["note"]) == (-5, "x")


def test_retry_with_edited_data_applies_it_and_the_ticket_moves_on(failed_refund):
    ticket_id, instance_id, incident_id = failed_refund
    data = incident_data(incident_id)
    edited = {**data, "amount": 12.5}
    del edited["note"]
    retry_incident(incident_id, actor="max", data=edited, seen=fingerprint(data))
    job = db.session.execute(db.select(Job)).scalar_one()
    assert (job.params, job.status) == ({"amount": 12.5}, "pending")
    [retried] = _history(instance_id, "incident_retried")
    assert retried.actor == "max" and retried.data == {
        "incident_id": incident_id,
        "changed": ["amount", "note"],
    }
    drain()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()
    assert task.name == "confirm_refund"
    assert db.session.get(ProcessInstance, instance_id).status == "running"


def test_an_edit_of_a_name_the_engine_sets_is_refused_and_nothing_changes(failed_refund):
    _, instance_id, incident_id = failed_refund
    data = incident_data(incident_id)
    with pytest.raises(InvalidData) as refused:
        retry_incident(incident_id, data={**data, "amount": 3, "ticket_id": 99}, seen=fingerprint(data))
    assert "data.ticket_id" in refused.value.errors
    assert db.session.get(Incident, incident_id).resolved_at is None
    assert db.session.execute(db.select(Job)).scalar_one().status == "incident"
    assert incident_data(incident_id)["amount"] == -5
    assert _history(instance_id, "incident_retried") == []


def test_a_retry_on_data_other_than_the_preview_showed_is_refused(failed_refund):
    _, _, incident_id = failed_refund
    data = incident_data(incident_id)
    with pytest.raises(Conflict, match="changed since the preview"):
        retry_incident(incident_id, data={**data, "amount": 3}, seen=fingerprint({"amount": 1}))
    assert db.session.get(Incident, incident_id).resolved_at is None


def test_parameters_that_fail_on_the_edited_data_are_refused_naming_the_element(failed_refund):
    _, _, incident_id = failed_refund
    data = incident_data(incident_id)
    edited = {k: v for k, v in data.items() if k != "amount"}
    with pytest.raises(Exception) as failed:
        retry_incident(incident_id, data=edited, seen=fingerprint(data))
    assert getattr(failed.value, "status", None) == 422 and "issue_refund" in failed.value.message
    assert db.session.get(Incident, incident_id).resolved_at is None


def test_element_states_show_completed_incident_and_later_active_and_waiting(failed_refund, clock):
    ticket_id, instance_id, incident_id = failed_refund
    instance = db.session.get(ProcessInstance, instance_id)
    states = element_states(instance)
    assert states["definition"]["key"] == "refund"
    assert states["elements"]["start"]["state"] == "completed"
    issue = states["elements"]["issue_refund"]
    assert issue["state"] == "incident" and issue["incidents"][0]["id"] == incident_id
    data = incident_data(incident_id)
    retry_incident(incident_id, data={**data, "amount": 1}, seen=fingerprint(data))
    drain()
    states = element_states(db.session.get(ProcessInstance, instance_id))["elements"]
    assert states["issue_refund"] == {**states["issue_refund"], "state": "completed", "completed": 1}
    assert states["confirm_refund"]["state"] == "active"
    assert states["reminder"]["state"] == "waiting" and len(states["reminder"]["due_at"]) == 1


def test_moving_timers_brings_them_closer_and_the_worker_fires_them(failed_refund, clock):
    ticket_id, instance_id, incident_id = failed_refund
    data = incident_data(incident_id)
    retry_incident(incident_id, data={**data, "amount": 1}, seen=fingerprint(data))
    drain()
    due = db.session.execute(db.select(Timer.due_at)).scalar_one()
    assert move_timers(instance_id, 2 * 24 * 60, actor="max") == 1
    assert db.session.execute(db.select(Timer.due_at)).scalar_one() == due - timedelta(days=2)
    drain()
    assert [e.element_id for e in _history(instance_id, "timer_fired")] == ["reminder"]
    with pytest.raises(InvalidData) as refused:
        move_timers(instance_id, 0)
    assert "minutes" in refused.value.errors


def test_cancel_keeps_its_reason_in_the_history(failed_refund):
    ticket_id, instance_id, _ = failed_refund
    cancel_instance(instance_id, actor="max", reason="  the customer withdrew  ")
    [cancelled] = _history(instance_id, "instance_cancelled")
    assert cancelled.data["reason"] == "the customer withdrew"
    assert db.session.get(Ticket, ticket_id).status == "cancelled"
    with pytest.raises(InvalidData):
        cancel_instance(instance_id, reason="x" * 501)


def test_a_timer_incident_is_fixed_by_setting_the_missing_variable_and_resolves_when_it_fires(app, clock):
    from app.engine import deploy
    from tests.worker.diagrams import timer_then_timer

    deploy(timer_then_timer("follow_up_after"))  # the second timer reads a variable never set
    ticket, instance = start_process("twice", make_customer().id, "Timer", {})
    clock.shift(timedelta(hours=1))
    drain()
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.kind == "timer"
    data = incident_data(incident.id)
    assert "follow_up_after" not in data
    retry_incident(
        incident.id, actor="max", data={**data, "follow_up_after": "PT10M"}, seen=fingerprint(data)
    )
    assert db.session.get(Incident, incident.id).resolved_at is None
    drain()  # the first timer fires now, the second waits ten minutes
    assert db.session.get(Incident, incident.id).resolved_at is not None
    assert db.session.get(ProcessInstance, instance.id).status == "running"
    clock.shift(timedelta(minutes=11))
    drain()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    assert task.name == "after"
