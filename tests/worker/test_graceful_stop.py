"""SIGTERM to a real `flask worker` process: it finishes the timer in hand, gives the rest of its
claims back (lease cleared, so another worker takes them at once) and exits 0."""

import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine import deploy, move_timers, start_process
from app.extensions import db
from tests.factories import make_customer
from tests.worker.diagrams import tiny_timer
from tests.worker.rows import fired, timers

ROOT = Path(__file__).resolve().parents[2]


def _worker(url: str, fault: str, **extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TICKETFLOW_ENV": "test",
        "SECRET_KEY": "graceful-stop-test-" + "x" * 20,
        "MAIL_CATCHER": "0",
        "ALERT_EVALUATE_SECONDS": "0",
        "WORKER_SWEEP_SECONDS": "0.2",
        "TICKETFLOW_FAULT": fault,
        "LOG_FORMAT": "json",
        **extra,
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def _wait_for_line(process: subprocess.Popen, text: str, timeout: float = 60) -> list[str]:
    """Read the process's stderr until a line contains `text` (fails after `timeout` seconds)."""
    seen = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while True:
            assert selector.select(timeout), f"no {text!r} within {timeout} s; stderr: {seen[-20:]}"
            line = process.stderr.readline()
            assert line, f"the worker exited ({process.poll()}) before {text!r}; stderr: {seen[-20:]}"
            seen.append(line)
            if text in line:
                return seen


@pytest.mark.parametrize("batch", [1, 3])
def test_sigterm_finishes_the_timers_in_hand_and_releases_the_rest(app, batch):
    """One timer per transaction, or a batch of three (TIMER_BATCH): what is in hand commits."""
    deploy(tiny_timer('"PT1H"'))
    customer = make_customer()
    for _ in range(5):
        _ticket, instance = start_process("tick", customer.id, "Stop", {})
        move_timers(instance.id, 61)  # due a minute ago, for the worker's wall clock
    assert len(timers()) == 5
    db.session.remove()
    worker = _worker(
        app.config["SQLALCHEMY_DATABASE_URI"],
        "mid_timer_fire:pause",
        TIMER_BATCH=str(batch),
        TIMER_BATCH_SECONDS="600",  # the batch is never cut short by the fault point's pauses
    )
    try:
        _wait_for_line(worker, "fault point mid_timer_fire reached")  # inside the first batch
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=60)[1]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, output
    assert len(fired()) == batch  # the timers in hand fired, once each
    left = timers()
    assert len(left) == 5 - batch and all(t.lease_until is None for t in left)  # given back, not leased
    released = f'"msg": "stopping: released {5 - batch} claimed job(s) and timer(s) for other workers"'
    assert released in output
    assert f'"command": "{"fire_timer" if batch == 1 else "fire_timers"}"' in output  # its JSON line


def test_released_jobs_go_back_to_pending_without_counting_the_attempt(app, clock):
    from app.engine import claim_jobs, release_claims
    from app.models import Job
    from app.worker import drain
    from tests.diagrams import service_task_process

    deploy(
        service_task_process("refund.issue", '<spiffworkflow:parameter id="amount" type="float" value="5"/>')
    )
    customer = make_customer()
    for _ in range(3):
        start_process("svc", customer.id, "Stop", {})
    claimed = claim_jobs(10, lease_seconds=60)
    assert len(claimed) == 3 and {job.attempt for job in claimed} == {1}
    assert release_claims([job.id for job in claimed]) == 3
    db.session.commit()
    rows = db.session.execute(db.select(Job)).scalars().all()
    assert {(r.status, r.attempts, r.lease_until) for r in rows} == {("pending", 0, None)}
    assert release_claims([job.id for job in claimed]) == 0  # only rows still claimed
    assert drain() == 3  # taken at once by the next worker, each as its first attempt
