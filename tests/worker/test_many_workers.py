"""Two worker processes on one database never fire a timer twice, and together fire every one.

The workers are real processes (multiprocessing's 'spawn' context), each with its own app and
connection pool on the test database, like two `flask worker` processes. On PostgreSQL they
claim with FOR UPDATE SKIP LOCKED and a lease; on SQLite, BEGIN IMMEDIATE serializes claims.
"""

import multiprocessing
import os
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.clock import utcnow
from app.engine import deploy, fire_timer, start_process
from app.extensions import db
from app.models import HistoryEvent, ProcessInstance
from tests.factories import make_customer
from tests.worker.diagrams import boundary_timer, tiny_timer
from tests.worker.rows import fired, fresh, timers
from tests.worker.spawned import work_until_idle

ON_POSTGRESQL = os.environ.get("TEST_DATABASE") == "postgresql"
WORKERS = 2
# SQLite runs one writer at a time whatever the worker count: fewer timers prove its claims.
TIMERS = 1000 if ON_POSTGRESQL else 100


def counts_per(column, kind: str) -> Counter:
    rows = db.session.execute(
        db.select(column, db.func.count(HistoryEvent.id)).where(HistoryEvent.kind == kind).group_by(column)
    ).all()
    return Counter(dict(rows))


def run_workers(url: str, now: str) -> list[tuple]:
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(WORKERS), context.Queue()
    processes = [
        context.Process(target=work_until_idle, args=(url, now, ready, results)) for _ in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return outcomes


def test_two_worker_processes_fire_every_due_timer_exactly_once(app, clock):
    deploy(tiny_timer('"PT1H"'))
    customer = make_customer()
    for i in range(TIMERS):
        start_process("tick", customer.id, f"Timer {i}", {})
    assert len(timers()) == TIMERS
    due = utcnow() + timedelta(hours=1, seconds=1)
    fresh()  # the test holds no transaction while the workers run

    outcomes = run_workers(app.config["SQLALCHEMY_DATABASE_URI"], due.isoformat())

    assert all(isinstance(handled, int) for _, handled, _ in outcomes), outcomes
    assert sum(handled for _, handled, _ in outcomes) == TIMERS  # no timer claimed twice
    if ON_POSTGRESQL:  # SQLite's lock is not fair: one may starve
        assert all(handled > 0 for _, handled, _ in outcomes), outcomes  # both really worked
    fresh()
    fired = counts_per(HistoryEvent.task_id, "timer_fired")
    assert len(fired) == TIMERS and set(fired.values()) == {1}
    completed = counts_per(HistoryEvent.instance_id, "instance_completed")
    assert len(completed) == TIMERS and set(completed.values()) == {1}
    assert timers() == []
    statuses = db.session.execute(
        db.select(ProcessInstance.status, db.func.count(ProcessInstance.id)).group_by(ProcessInstance.status)
    ).all()
    assert dict(statuses) == {"completed": TIMERS}


@pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="on SQLite a command holds the write lock from its first "
    "read (BEGIN IMMEDIATE), so no worker can read a timer another one is firing",
)
def test_worker_that_waited_for_the_instance_lock_does_not_fire_the_round_another_just_fired(app, clock):
    deploy(boundary_timer("timeCycle", '"R5/PT1H"', interrupting=False))
    start_process("bound", make_customer().id, "Cycle", {})
    [row] = timers()
    started, timer_id = utcnow(), row.id
    clock.shift(timedelta(hours=1, seconds=1))

    def other_worker():  # its lease ran out, so both hold the same claim
        with app.app_context():
            assert fire_timer(timer_id) is True
            db.session.remove()

    interleaved = []

    def before_instance_lock(conn, cursor, statement, parameters, context, executemany):
        # This worker has read the timer row and is about to lock the instance: the other fires first.
        if not interleaved and "FROM process_instance" in statement and "FOR UPDATE" in statement:
            interleaved.append(statement)
            other = threading.Thread(target=other_worker)
            other.start()
            other.join()

    event.listen(db.engine, "before_cursor_execute", before_instance_lock)
    try:
        assert fire_timer(timer_id) is False
    finally:
        event.remove(db.engine, "before_cursor_execute", before_instance_lock)
    assert interleaved
    assert len(fired()) == 1
    assert [t.due_at for t in timers()] == [started + timedelta(hours=2)]
