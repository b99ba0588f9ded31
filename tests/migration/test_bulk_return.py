"""The migration proof: 1,000 running return tickets on mixed steps move to a new version in a batch.

Version 2 of the return flow (tests/migration/return_v2.py) adds an inspection after the items
arrive and replaces the second approver's task. The tickets are made through engine commands
(start, complete), waiting at the review, at the goods' arrival, and for the customer's reply
(a message and a reminder timer); one waits at the replaced step. The dry run lists it apart;
the batch, drained by the worker chunk by chunk, moves the others with their SLA due times,
statuses and timers untouched; they then finish on version 2; the one left behind is reported
and stays on version 1; one moved ticket is rolled back, one that moved on since is refused.

MIGRATION_PROOF_TICKETS sets the number (1,000 by default; the PostgreSQL run may use fewer).
"""

import os
from datetime import timedelta

import pytest

from app.engine import (
    Conflict,
    complete_task,
    deliver_message,
    deploy,
    migration_batch,
    migration_dry_run,
    rollback_migration,
    start_migration_batch,
    start_process,
)
from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance, Ticket, Timer, User
from app.worker import drain, work_once
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer, make_user, set_limits
from tests.migration.return_v2 import return_v2

TICKETS = int(os.environ.get("MIGRATION_PROOF_TICKETS", "1000"))
ACCEPT = {"decision": "accept", "resolution": "refund"}
MORE_INFO = {"decision": "more_info", "question": "A photo of the damage, please?"}
RECEIVED = {"item_received": True, "condition": "used", "refund_amount": 50}


def _open_task(ticket_id: int) -> HumanTask:
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()


def _complete(task: HumanTask, data: dict, default) -> None:
    """Complete the task as its assignee (the assignment rules spread the team's tasks)."""
    by = db.session.get(User, task.assignee_id) if task.assignee_id else default
    complete_task(task.id, data, by)


def _tasks_by_ticket(ids) -> dict[int, HumanTask]:
    rows = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id.in_(ids))).scalars()
    return {row.ticket_id: row for row in rows}


def _versions() -> dict[int, int]:
    rows = db.session.execute(
        db.select(ProcessInstance.ticket_id, ProcessDefinition.version).join(
            ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id
        )
    )
    return dict(rows.all())


def _snapshot() -> dict:
    """What a migration must not touch: each ticket's status and SLA clock, each timer's due time."""
    tickets = db.session.execute(
        db.select(Ticket.id, Ticket.status, Ticket.sla_due_at, Ticket.sla_paused, Ticket.sla_running_since)
    ).all()
    timers = db.session.execute(db.select(Timer.id, Timer.element_id, Timer.due_at)).all()
    return {"tickets": {t[0]: tuple(t[1:]) for t in tickets}, "timers": {t[0]: tuple(t[1:]) for t in timers}}


@pytest.fixture
def running(app, clock):
    """TICKETS return tickets on mixed steps of version 1, and one at the step version 2 replaces."""
    deploy_shipped("return")
    set_limits({"agent": 1000, "lead": 10000})
    agent = make_user("alice", "agent", teams=("returns", "customer-success"))
    lead = make_user("carol", "agent", teams=("returns",), lead=True)
    customer = make_customer()
    ids = [
        start_process("return", customer.id, f"Return {i}", RETURN_START, actor="test")[0].id
        for i in range(TICKETS)
    ]
    drain()
    tasks = _tasks_by_ticket(ids)
    steps = {"review": [], "arrival": [], "reply": []}
    for n, ticket_id in enumerate(ids):
        if n % 10 < 6:
            steps["review"].append(ticket_id)
            continue
        more_info = n % 10 == 9
        _complete(tasks[ticket_id], MORE_INFO if more_info else ACCEPT, agent)
        steps["reply" if more_info else "arrival"].append(ticket_id)
    drain()
    replaced, _ = start_process("return", customer.id, "Expensive return", RETURN_START, actor="test")
    drain()
    _complete(_open_task(replaced.id), ACCEPT, agent)
    drain()
    _complete(_open_task(replaced.id), {**RECEIVED, "refund_amount": 150}, agent)
    drain()
    assert _open_task(replaced.id).name == "approve_refund"
    deploy(return_v2(), actor="ana")
    return {**steps, "replaced": replaced.id, "agent": agent, "lead": lead}


def test_a_thousand_return_tickets_move_to_version_2_in_a_batch(running, clock, app):
    agent = running["agent"]
    app.config["MIGRATION_CHUNK"] = max(TICKETS // 10, 1)
    before = _snapshot()
    assert len(before["timers"]) >= len(running["reply"])  # the reminder and the deadline wait

    dry = migration_dry_run("return", 1, 2)
    assert dry["counts"] == {"movable": TICKETS, "blocked": 1}
    [blocked] = dry["blocked"]
    assert (blocked["element_id"], blocked["state"], blocked["tickets"]) == (
        "approve_refund",
        "READY",
        [running["replaced"]],
    )

    batch = start_migration_batch("return", 1, 2, actor="ana")  # every running ticket of version 1
    assert batch["counts"]["total"] == TICKETS + 1
    progress = []
    while work_once():
        progress.append(migration_batch(batch["id"])["counts"]["moved"])
    assert progress == sorted(progress) and 0 < progress[0] < TICKETS  # counted chunk by chunk

    done = migration_batch(batch["id"])
    assert done["state"] == "done"
    assert done["counts"] == {"total": TICKETS + 1, "moved": TICKETS, "failed": 1, "skipped": 0, "pending": 0}
    [failure] = done["failures"]
    assert failure["ticket_id"] == running["replaced"]
    assert "'approve_refund' (READY)" in failure["reason"]

    db.session.expire_all()
    assert _snapshot() == before  # statuses, SLA due times and clocks, timers: all as they were
    versions = _versions()
    assert versions[running["replaced"]] == 1  # reported and left alone
    assert _open_task(running["replaced"]).name == "approve_refund"
    assert sorted(v for t, v in versions.items() if t != running["replaced"]) == [2] * TICKETS
    moves = db.session.execute(
        db.select(HistoryEvent.data).where(HistoryEvent.kind == "instance_migrated")
    ).scalars()
    assert [(m["from_version"], m["to_version"], m["batch_id"]) for m in moves] == [
        (1, 2, batch["id"])
    ] * TICKETS

    # They go on on version 2: the new inspection step comes after the goods arrive.
    arrived = running["arrival"][0]
    _complete(_open_task(arrived), RECEIVED, agent)
    assert _open_task(arrived).name == "inspect_item"
    _complete(_open_task(arrived), {}, agent)
    drain()
    reviewed = running["review"][0]
    _complete(_open_task(reviewed), ACCEPT, agent)
    drain()
    _complete(_open_task(reviewed), RECEIVED, agent)
    _complete(_open_task(reviewed), {}, agent)
    drain()
    replied = running["reply"][0]
    deliver_message(replied, "customer_reply", {"message": "Here is the photo"}, actor="customer")
    drain()
    assert _open_task(replied).name == "review_request"
    db.session.expire_all()
    for ticket_id in (arrived, reviewed):
        ticket = db.session.get(Ticket, ticket_id)
        assert (ticket.status, ticket.resolution) == ("closed", "refunded")
    for _ in range(4):  # the feedback loop's timers run out one after the other: the processes end
        clock.shift(timedelta(days=10))
        drain()
    ended = db.session.execute(
        db.select(ProcessInstance.status).where(ProcessInstance.ticket_id.in_([arrived, reviewed]))
    ).scalars()
    assert list(ended) == ["completed", "completed"]

    # Roll back: one that has not moved on since goes back; one that has is refused, with why.
    still = running["review"][1]
    assert rollback_migration(still, actor="ana") == {"ticket_id": still, "from_version": 2, "to_version": 1}
    assert _versions()[still] == 1
    moved_on = running["arrival"][1]
    _complete(_open_task(moved_on), RECEIVED, agent)
    with pytest.raises(Conflict, match="moved on since its migration"):
        rollback_migration(moved_on, actor="ana")
