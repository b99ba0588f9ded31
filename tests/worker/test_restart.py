"""After downtime a new worker fires every timer that came due, each exactly once."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

from app.engine import deploy, start_process
from app.extensions import db
from app.models import ProcessInstance
from app.worker import Worker, drain
from tests.factories import make_customer
from tests.worker.diagrams import boundary_timer, intermediate_timer, tiny_timer
from tests.worker.rows import fired, fresh, open_tasks, timers


@pytest.fixture
def downtime(app, clock):
    """Twenty waiting instances of four timer kinds; then three days pass with no worker running."""
    deploy(tiny_timer('"PT1H"'))
    deploy(intermediate_timer("timeDate", '"2026-11-24T08:00:00Z"'))
    deploy(boundary_timer("timeCycle", '"R3/PT1H"', interrupting=False))
    deploy(boundary_timer("timeDuration", '"PT2H"', interrupting=True, process_id="escalate"))
    customer = make_customer()
    for key in ["tick"] * 14 + ["wait"] * 2 + ["bound"] * 2 + ["escalate"] * 2:
        start_process(key, customer.id, "Downtime", {})
    assert len(timers()) == 20
    clock.shift(timedelta(days=3))


def expected_fires() -> Counter:
    """Every timer once, a cycle once per repetition (three of R3): 14 + 2 + 2*3 + 2."""
    return Counter({"pause": 16, "nudge": 6 + 2})


def assert_each_fired_exactly_once():
    fires = fired()
    assert Counter(element for element, _ in fires) == expected_fires()
    per_timer = Counter(task_id for _, task_id in fires)
    assert sorted(set(per_timer.values())) == [1, 3]  # the two cycles: 3, everything else: 1
    assert list(per_timer.values()).count(3) == 2
    assert timers() == []
    completed = db.session.execute(
        db.select(db.func.count(ProcessInstance.id)).where(ProcessInstance.status == "completed")
    ).scalar()
    assert completed == 14  # the tiny ones; the others wait in user tasks
    assert Counter(open_tasks()) == Counter({"after": 2, "chase": 6 + 2, "work": 2})


def test_drain_after_downtime_fires_every_overdue_timer_once(downtime):
    assert drain() > 0
    assert drain() == 0
    assert_each_fired_exactly_once()


def test_a_started_scheduler_worker_fires_every_overdue_timer_once(app, clock, downtime):
    app.config["WORKER_SWEEP_SECONDS"] = 0.05
    worker = Worker(app)
    rounds, swept = [], threading.Semaphore(0)

    def listen(event):
        rounds.append((event.job_id, event.code))
        if event.job_id == "sweep":
            swept.release()

    worker.scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    fresh()
    worker.start()  # running, on its own thread: its first sweep is due at once
    try:
        assert swept.acquire(timeout=30)
        assert rounds == [("sweep", EVENT_JOB_EXECUTED)]  # the frozen clock keeps the next one waiting
        assert_each_fired_exactly_once()
        clock.shift(timedelta(minutes=1))  # the next sweep comes due and finds nothing left to fire
        assert swept.acquire(timeout=30)
        worker.scheduler.pause()
        assert rounds == [("sweep", EVENT_JOB_EXECUTED)] * 2
        assert_each_fired_exactly_once()
    finally:
        worker.shutdown()
