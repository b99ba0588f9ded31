"""Instances saved together go in one versioned UPDATE (runtime/instance_writes.py): a batch of
due timers writes its instances in one statement, and a row another command changed meanwhile
fails the whole flush as the ORM's own check would, saving nothing."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from app.engine import Conflict, StepFailed, deploy, fire_timers, start_process
from app.engine.runtime.runner import run_command
from app.extensions import db
from app.models import HumanTask, ProcessInstance
from tests.factories import deploy_shipped, make_customer, make_user
from tests.worker.diagrams import tiny_timer
from tests.worker.rows import fired, fresh, timers


@pytest.fixture
def statements(app):
    """The text of every statement sent from now on (an executemany counts once)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def versions() -> dict[int, tuple[int, str]]:
    fresh()
    rows = db.session.execute(db.select(ProcessInstance.id, ProcessInstance.version, ProcessInstance.status))
    return {id_: (version, status) for id_, version, status in rows}


def test_a_batch_of_timers_writes_its_instances_in_one_statement(app, clock, statements):
    deploy(tiny_timer('"PT1H"'))
    customer = make_customer()
    for i in range(5):
        start_process("tick", customer.id, f"Batch {i}", {})
    before = versions()
    ids = [t.id for t in timers()]
    clock.shift(timedelta(hours=1))
    statements.clear()
    assert fire_timers(ids, 600) == ids
    updates = [s for s in statements if s.startswith("UPDATE process_instance")]
    assert len(updates) == 1 and "version" in updates[0]
    assert versions() == {id_: (version + 1, "completed") for id_, (version, _) in before.items()}
    assert len(fired()) == 5


def test_a_row_changed_meanwhile_fails_the_flush_and_nothing_is_saved(app):
    deploy(tiny_timer('"PT1H"'))
    customer = make_customer()
    first = start_process("tick", customer.id, "One", {})[1].id
    second = start_process("tick", customer.id, "Two", {})[1].id
    before = versions()
    table = ProcessInstance.__table__
    attempts = []

    def body():
        rows = [db.session.get(ProcessInstance, i) for i in (first, second)]
        # Another command saves the second instance after this one read it.
        db.session.execute(update(table).where(table.c.id == second).values(version=table.c.version + 1))
        for row in rows:
            row.status = "incident"
        attempts.append(1)

    with pytest.raises(Conflict):
        run_command(body, retries=2)
    assert len(attempts) == 2  # the lost race was retried, then given up
    assert versions() == before  # neither row was written, and the bumps rolled back with them
    fresh()
    assert {db.session.get(ProcessInstance, i).status for i in (first, second)} == {"running"}


def _general() -> tuple[str, dict]:
    deploy_shipped("general")  # its user task is assigned: the roster's read flushes the session
    make_user("alice", "agent", teams=("support",))
    return "general", {"question": "Do you ship to Norway?", "category": "delivery"}


def _tick() -> tuple[str, dict]:
    deploy(tiny_timer('"PT1H"'))  # no read after the engine has run: written as the start ends
    return "tick", {}


@pytest.mark.parametrize("diagram", [_general, _tick])
def test_a_start_writes_its_instance_once_with_its_workflow(app, statements, diagram):
    key, data = diagram()
    customer = make_customer()
    statements.clear()
    instance = start_process(key, customer.id, "Once", data)[1]
    written = [s for s in statements if re.search(r"(INSERT INTO|UPDATE) process_instance ", s)]
    assert len(written) == 1 and "INSERT INTO process_instance " in written[0]  # (on PostgreSQL: in a WITH)
    fresh()
    row = db.session.get(ProcessInstance, instance.id)
    assert (row.version, row.status) == (1, "running") and '"tasks"' in row.workflow
    waits = [t.instance_id for t in timers()] + [
        t.instance_id for t in db.session.execute(db.select(HumanTask)).scalars()
    ]
    assert waits == [instance.id]


def test_new_instances_take_the_next_ids_whatever_versions_are_deployed(app):
    deploy(tiny_timer('"PT1H"'))
    deploy(tiny_timer('"PT2H"'))  # a second version: the read that gives the id finds two rows
    customer = make_customer()
    ids = [start_process("tick", customer.id, f"Next {i}", {})[1].id for i in range(3)]
    assert ids == [1, 2, 3]


def test_a_start_that_fails_leaves_no_instance_behind(app):
    deploy(tiny_timer("missing_name", process_id="broken"))
    deploy(tiny_timer('"PT1H"'))
    customer = make_customer()
    with pytest.raises(StepFailed):
        start_process("broken", customer.id, "Fails", {})
    instance = start_process("tick", customer.id, "Works", {})[1]
    fresh()
    rows = db.session.execute(db.select(ProcessInstance.id, ProcessInstance.definition_id)).all()
    assert [id_ for id_, _ in rows] == [instance.id]
