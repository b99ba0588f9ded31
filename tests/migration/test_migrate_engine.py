"""Migration of running tickets to another version: dry run, one ticket, refusal leaves nothing half-done."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.engine import (
    Conflict,
    claim_task,
    complete_task,
    deploy,
    migrate_instance,
    migration_dry_run,
    start_process,
)
from app.extensions import db
from app.models import (
    HistoryEvent,
    HumanTask,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    Ticket,
    TicketCount,
    Timer,
)
from app.worker import drain
from tests.factories import make_customer, make_user
from tests.migration.diagrams import V1, V2
from tests.restore import assert_restores_unchanged


@pytest.fixture
def tickets(app, clock):
    deploy(V1, actor="test")
    customer = make_customer()
    out = {}
    for path in "abcde":
        ticket, _ = start_process("movable", customer.id, f"path {path}", {"path": path}, actor="test")
        out[path] = ticket.id
    drain()
    deploy(V2, actor="test")
    return out


def _task(ticket_id):
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()


def _version(ticket_id):
    row = db.session.execute(
        db.select(ProcessDefinition.version)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.ticket_id == ticket_id)
    ).scalar_one()
    return row


def _definition_id(version):
    return db.session.execute(
        db.select(ProcessDefinition.id).where(
            ProcessDefinition.key == "movable", ProcessDefinition.version == version
        )
    ).scalar_one()


def test_dry_run_groups_the_reasons(tickets):
    result = migration_dry_run("movable", 1, 2)
    assert sorted(result["movable"]) == sorted([tickets["a"], tickets["b"]])
    by_element = {g["element_id"]: g for g in result["blocked"]}
    assert by_element["prep"]["tickets"] == [tickets["c"]]
    assert by_element["prep"]["state"] == "COMPLETED"
    assert "changed" in by_element["prep"]["reason"]
    assert by_element["triage"]["tickets"] == [tickets["d"]]
    assert by_element["triage"]["state"] == "READY"
    assert by_element["answer"]["tickets"] == [tickets["e"]]
    assert by_element["answer"]["state"] == "WAITING"
    assert result["counts"] == {"movable": 2, "blocked": 3}


def test_dry_run_takes_the_mapping_into_account(tickets):
    result = migration_dry_run("movable", 1, 2, {"triage": "sort", "answer": "reply_in"})
    assert sorted(result["movable"]) == sorted([tickets["a"], tickets["b"], tickets["d"], tickets["e"]])


def test_migrate_keeps_assignee_status_sla_and_finishes_on_the_new_path(tickets, clock):
    agent = make_user("alice", "agent")
    task = _task(tickets["a"])
    claim_task(task.id, agent)
    ticket = db.session.get(Ticket, tickets["a"])
    before = (ticket.status, ticket.sla_due_at, ticket.sla_paused, ticket.sla_running_since)
    assert before[1] is not None
    clock.shift(timedelta(minutes=5))
    assert migrate_instance(tickets["a"], 2, actor="ana") == {
        "ticket_id": tickets["a"],
        "from_version": 1,
        "to_version": 2,
    }
    db.session.expire_all()
    moved = _task(tickets["a"])
    assert (moved.id, moved.assignee_id, moved.name) == (task.id, agent.id, "review")
    ticket = db.session.get(Ticket, tickets["a"])
    assert (ticket.status, ticket.sla_due_at, ticket.sla_paused, ticket.sla_running_since) == before
    assert _version(tickets["a"]) == 2
    assert ticket.definition_id == _definition_id(2)  # the dashboard's version filter and counts
    counted = db.session.execute(
        db.select(TicketCount.definition_id, db.func.sum(TicketCount.n))
        .where(TicketCount.type == "movable")
        .group_by(TicketCount.definition_id)
    ).all()
    assert dict(counted) == {_definition_id(1): 4, _definition_id(2): 1}
    instance_id = db.session.execute(
        db.select(ProcessInstance.id).where(ProcessInstance.ticket_id == tickets["a"])
    ).scalar_one()
    assert_restores_unchanged(instance_id)
    row = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "instance_migrated")
    ).scalar_one()
    assert (row.ticket_id, row.actor, row.data["from_version"], row.data["to_version"]) == (
        tickets["a"],
        "ana",
        1,
        2,
    )
    complete_task(moved.id, {}, None)
    assert _task(tickets["a"]).name == "extra"  # v2's new step
    complete_task(_task(tickets["a"]).id, {}, None)
    instance = db.session.execute(
        db.select(ProcessInstance).where(ProcessInstance.ticket_id == tickets["a"])
    ).scalar_one()
    assert instance.status == "completed"


def test_migrate_keeps_the_timer_due_time(tickets, clock):
    timer = db.session.execute(db.select(Timer)).scalar_one()
    due = timer.due_at
    clock.shift(timedelta(hours=1))
    migrate_instance(tickets["b"], 2, actor="ana")
    db.session.expire_all()
    after = db.session.execute(db.select(Timer)).scalar_one()
    assert (after.id, after.element_id, after.due_at) == (timer.id, "wait", due)
    clock.shift(timedelta(minutes=59))
    assert drain() == 0
    clock.shift(timedelta(minutes=2))
    assert drain() == 1
    assert _task(tickets["b"]).name == "after_wait"
    assert utcnow() > due


def test_renamed_element_moves_with_a_mapping_and_keeps_the_task(tickets):
    task = _task(tickets["d"])
    with pytest.raises(Conflict, match="triage"):
        migrate_instance(tickets["d"], 2, actor="ana")
    db.session.rollback()
    assert _version(tickets["d"]) == 1  # nothing half-applied
    assert _task(tickets["d"]).name == "triage"
    assert (
        db.session.execute(db.select(HistoryEvent).where(HistoryEvent.kind == "instance_migrated")).first()
        is None
    )
    migrate_instance(tickets["d"], 2, {"triage": "sort"}, actor="ana")
    db.session.expire_all()
    moved = _task(tickets["d"])
    assert (moved.id, moved.name) == (task.id, "sort")
    complete_task(moved.id, {}, None)
    assert (
        db.session.execute(
            db.select(ProcessInstance.status).where(ProcessInstance.ticket_id == tickets["d"])
        ).scalar_one()
        == "completed"
    )


def test_ticket_past_a_changed_element_is_refused(tickets):
    workflow = db.session.execute(
        db.select(ProcessInstance.workflow).where(ProcessInstance.ticket_id == tickets["c"])
    ).scalar_one()
    with pytest.raises(Conflict, match="'prep' \\(COMPLETED\\)"):
        migrate_instance(tickets["c"], 2, actor="ana")
    db.session.rollback()
    assert (
        db.session.execute(
            db.select(ProcessInstance.workflow).where(ProcessInstance.ticket_id == tickets["c"])
        ).scalar_one()
        == workflow
    )


def test_rollback_moves_back_until_the_ticket_moves_on(tickets):
    from app.engine import rollback_migration

    task = _task(tickets["d"])
    with pytest.raises(Conflict, match="no migration"):
        rollback_migration(tickets["d"], actor="ana")
    db.session.rollback()
    migrate_instance(tickets["d"], 2, {"triage": "sort"}, actor="ana")
    assert rollback_migration(tickets["d"], actor="ana") == {
        "ticket_id": tickets["d"],
        "from_version": 2,
        "to_version": 1,
    }
    db.session.expire_all()
    assert _version(tickets["d"]) == 1
    assert (_task(tickets["d"]).id, _task(tickets["d"]).name) == (task.id, "triage")
    kinds = db.session.execute(
        db.select(HistoryEvent.kind).where(HistoryEvent.kind.like("%migra%")).order_by(HistoryEvent.id)
    ).scalars()
    assert list(kinds) == ["instance_migrated", "migration_rolled_back"]


def test_no_rollback_once_the_ticket_moved_on(tickets):
    from app.engine import rollback_migration

    migrate_instance(tickets["a"], 2, actor="ana")
    complete_task(_task(tickets["a"]).id, {}, None)
    with pytest.raises(Conflict, match="moved on since its migration \\(element 'review'\\)"):
        rollback_migration(tickets["a"], actor="ana")
    db.session.rollback()
    assert _version(tickets["a"]) == 2


def test_a_message_wait_moves_with_its_subscription(tickets):
    from app.engine import deliver_message

    subscription = db.session.execute(
        db.select(MessageSubscription).where(MessageSubscription.ticket_id == tickets["e"])
    ).scalar_one()
    sub_id = subscription.id
    migrate_instance(tickets["e"], 2, {"answer": "reply_in"}, actor="ana")
    db.session.expire_all()
    moved = db.session.execute(
        db.select(MessageSubscription).where(MessageSubscription.ticket_id == tickets["e"])
    ).scalar_one()
    assert (moved.id, moved.element_id, moved.name) == (sub_id, "reply_in", "customer_reply")
    deliver_message(tickets["e"], "customer_reply", {"message": "here"}, actor="customer")
    assert _task(tickets["e"]).name == "follow_up"
