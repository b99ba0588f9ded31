"""The APScheduler worker: wakes at the next due time, sweeps regularly, never drops a late run.

Most tests start the real scheduler paused and run its rounds with `tick()`, then read the
schedule it left behind; the late-run ones move the clock, resume it and wait (on an event, with
a timeout) for the rounds it runs on its own thread.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

from app.clock import utcnow
from app.engine import claim_due_timers, deploy, start_process
from app.worker import Worker
from tests.factories import make_customer
from tests.worker.diagrams import tiny_timer
from tests.worker.rows import fired, fresh, timers

WAKE_MARGIN = timedelta(milliseconds=5)


@pytest.fixture
def worker(app):
    app.config["WORKER_SWEEP_SECONDS"] = 0.05
    worker = Worker(app)
    worker.start(paused=True)
    yield worker
    worker.shutdown()


def start_timers(*durations: str) -> None:
    customer = make_customer()
    for i, duration in enumerate(durations):
        key = f"tick{i}"
        deploy(tiny_timer(f'"{duration}"', process_id=key))
        start_process(key, customer.id, f"Timer {duration}", {})


def wake_time(worker: Worker):
    job = worker.scheduler.get_job("wake")
    return job.next_run_time if job is not None else None


def test_sweep_runs_at_start_then_every_configured_interval(app, clock, worker):
    sweep = worker.scheduler.get_job("sweep")
    assert sweep.next_run_time == utcnow()
    assert sweep.trigger.interval == timedelta(seconds=0.05)


def test_late_runs_are_never_dropped_and_run_once(app, clock, worker):
    started = utcnow()
    start_timers("PT1H")
    worker.tick()
    assert wake_time(worker) == started + timedelta(hours=1) + WAKE_MARGIN
    events, both_ran = [], threading.Event()

    def listen(event):
        events.append((event.job_id, "missed" if event.code == EVENT_JOB_MISSED else "ran"))
        if {"wake", "sweep"} <= {job_id for job_id, _ in events}:
            both_ran.set()

    worker.scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    clock.shift(timedelta(hours=3))  # the scheduler did not run: its wake is 2 hours late, its sweep 3
    fresh()
    worker.scheduler.resume()
    assert both_ran.wait(timeout=30)
    worker.scheduler.pause()
    # Late by hours, far past APScheduler's default grace of a second: run, not "missed"; and the
    # sweep's 216,000 overdue runs are one run.
    assert Counter(events) == Counter({("wake", "ran"): 1, ("sweep", "ran"): 1})
    assert len(fired()) == 1 and timers() == []


def test_tick_sets_the_wake_to_the_next_due_time(app, clock, worker):
    started = utcnow()
    start_timers("PT3H", "PT1H")
    worker.tick()
    assert wake_time(worker) == started + timedelta(hours=1) + WAKE_MARGIN
    clock.move_to(started + timedelta(hours=1))
    worker.tick()
    assert len(fired()) == 1
    assert wake_time(worker) == started + timedelta(hours=3) + WAKE_MARGIN


def test_tick_with_nothing_waiting_leaves_only_the_sweep(app, clock, worker):
    worker.tick()
    assert wake_time(worker) is None
    assert worker.scheduler.get_job("sweep") is not None


def test_tick_does_not_spin_on_timers_another_worker_holds(app, clock, worker):
    start_timers("PT1H")
    clock.shift(timedelta(hours=2))
    assert len(claim_due_timers(50, 60)) == 1  # another worker claimed it and is busy
    worker.tick()
    assert fired() == []
    assert wake_time(worker) is None  # not "now + 5 ms" again and again: the sweep looks later
    clock.shift(timedelta(seconds=61))  # that worker died: its lease ran out
    worker.tick()
    assert len(fired()) == 1 and timers() == []


def test_wake_asks_for_a_round_now(app, clock, worker):
    worker.wake()
    assert wake_time(worker) == utcnow()


def test_a_scheduler_that_was_asleep_runs_its_sweep_once_and_fires_everything(app, clock, worker):
    start_timers("PT10M", "PT20M", "PT30M")
    runs, missed, swept = [], [], threading.Event()

    def listen(event):
        (missed if event.code == EVENT_JOB_MISSED else runs).append(event.job_id)
        if event.job_id == "sweep" and event.code == EVENT_JOB_EXECUTED:
            swept.set()

    worker.scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    clock.shift(timedelta(hours=1))  # the machine slept: 72,000 sweeps late
    fresh()
    worker.scheduler.resume()
    assert swept.wait(timeout=30)
    worker.scheduler.pause()
    assert missed == []
    assert runs.count("sweep") == 1
    assert len(fired()) == 3 and timers() == []
