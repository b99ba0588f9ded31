"""The worker: runs service-task jobs and fires due timers, each in its own engine command.

`work_once()` does one round; `drain()` repeats until nothing is due (tests, make run's first
pass); `Worker` wraps them in an APScheduler scheduler that wakes at the next due time and
sweeps every few seconds as a safety net. Web processes never start one unless embedded.
"""

import json
import logging
import threading
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app

from app.clock import utcnow
from app.dashboard.alerts import evaluate_alerts
from app.engine import (
    StepFailed,
    claim_due_timers,
    claim_jobs,
    complete_job,
    fail_job,
    fire_timer,
    next_wakeup,
    record_incident,
)
from app.extensions import db
from app.handlers import HANDLERS, HandlerContext, HandlerRefused
from app.mail import send_due_mail
from app.mail.catcher import start_catcher
from app.mail.smtp import settings_from
from app.transactions import write_transaction

log = logging.getLogger(__name__)
BATCH = 50


def run_job(job) -> bool:
    """Run one claimed job's handler, then complete or fail it. Returns True if completed."""
    handler = HANDLERS.get(job.operator)
    try:
        if handler is None:
            raise LookupError(f"no handler for operator '{job.operator}'")
        ctx = HandlerContext(job.ticket_id, job.instance_id, job.idempotency_key, job.attempt, job.element_id)
        with write_transaction():  # the handler's own rows: BEGIN IMMEDIATE on SQLite
            result = json.loads(json.dumps(handler(dict(job.params), ctx)))
    except HandlerRefused as exc:  # bad input: no try can fix it, an incident at once
        db.session.rollback()
        log.warning("job %s (%s) refused its input: %s", job.id, job.operator, exc)
        _report(job, str(exc), kind=type(exc).__name__, refused=True)
        return False
    except Exception as exc:  # a handler's failure is data: retried by its policy, then an incident
        db.session.rollback()
        log.warning("job %s (%s) failed: %s", job.id, job.operator, exc)
        _report(job, f"{type(exc).__name__}: {exc}", kind=type(exc).__name__)
        return False
    try:
        return complete_job(job.id, result)
    except StepFailed as exc:
        _report(job, exc.message, final=True)
    except Exception as exc:  # the result could not be written: retried by the policy, then an incident
        db.session.rollback()
        log.exception("job %s (%s): its result could not be recorded", job.id, job.operator)
        _report(
            job, f"its result could not be recorded: {type(exc).__name__}: {exc}", kind=type(exc).__name__
        )
    return False


def _report(job, error: str, **how) -> None:
    """fail_job, never raising: if even that fails, the job's lease runs out and its next claim
    counts the attempt (an exhausted job then becomes an incident, claim_jobs)."""
    try:
        fail_job(job.id, error, **how)
    except Exception:
        db.session.rollback()
        log.exception("job %s (%s): its failure could not be recorded", job.id, job.operator)


def fire(timer_id: str) -> bool:
    """Fire one claimed timer; a failure becomes an incident, never a silent stop."""
    try:
        return fire_timer(timer_id)
    except Exception as exc:  # anything else would retry on every lapsed lease, forever
        from app.models import Timer

        if isinstance(exc, StepFailed):
            element_id, message = exc.element_id, exc.message
        else:
            log.exception("timer %s could not fire", timer_id)
            element_id, message = None, f"the timer could not fire: {type(exc).__name__}: {exc}"
        timer = db.session.get(Timer, timer_id)
        if timer is not None:
            record_incident(
                timer.instance_id, element_id or timer.element_id, "timer", message, timer_id=timer_id
            )
        return False


def work_once() -> int:
    """One round: run due jobs and fire due timers. Returns how many were handled."""
    lease = current_app.config["JOB_LEASE_SECONDS"]
    handled = 0
    for job in claim_jobs(BATCH, lease):
        run_job(job)
        handled += 1
    for timer_id in claim_due_timers(BATCH, lease):
        fire(timer_id)
        handled += 1
    return handled


def drain(max_rounds: int = 1000) -> int:
    """Work until nothing is due now. Returns the number of jobs and timers handled."""
    total = 0
    for _ in range(max_rounds):
        handled = work_once()
        if handled == 0:
            return total
        total += handled
    raise RuntimeError("drain() did not settle; a process may loop through service tasks")


class Worker:
    """APScheduler-driven worker: wakes at the next due time, sweeps regularly."""

    def __init__(self, app: Flask):
        self.app = app
        self.scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        self._lock = threading.Lock()

    def start(self, paused: bool = False) -> None:
        """Sweep now and every WORKER_SWEEP_SECONDS; paused: schedule only (tests call tick())."""
        sweep = self.app.config["WORKER_SWEEP_SECONDS"]
        self.scheduler.add_job(self.tick, "interval", seconds=sweep, id="sweep", next_run_time=utcnow())
        catcher = start_catcher(self.app)  # development: MAIL_CATCHER=1 without MAIL_HOST
        if settings_from(self.app.config, catcher.port if catcher else None) is not None:
            # Mail on a job of its own: a slow or unreachable SMTP server never delays jobs and timers.
            self.scheduler.add_job(
                self.send_mail, "interval", seconds=sweep, id="mail", next_run_time=utcnow()
            )
        alerts = self.app.config.get("ALERT_EVALUATE_SECONDS") or 0
        if alerts > 0:  # 0 turns the evaluation off (the test config: tests evaluate by hand)
            self.scheduler.add_job(self.evaluate_alerts, "interval", seconds=alerts, id="alerts")
        self.scheduler.start(paused=paused)
        log.info("worker started (sweep every %ss)", sweep)

    def wake(self) -> None:
        """Run a round now (called after commands that created jobs)."""
        self.scheduler.add_job(self.tick, "date", run_date=utcnow(), id="wake", replace_existing=True)

    def tick(self) -> None:
        if not self._lock.acquire(blocking=False):
            return
        try:
            with self.app.app_context():
                try:
                    drain()
                    due = next_wakeup()
                finally:
                    db.session.remove()
            if due is not None:
                run_date = max(due, utcnow()) + timedelta(milliseconds=5)
                self.scheduler.add_job(self.tick, "date", run_date=run_date, id="wake", replace_existing=True)
        except Exception:  # keep the worker alive; the error is logged with its stack
            log.exception("worker round failed")
        finally:
            self._lock.release()

    def send_mail(self) -> None:
        """Send the due outbox e-mails (app/mail) until none is due or the server is unreachable."""
        try:
            with self.app.app_context():
                try:
                    while send_due_mail() > 0:
                        pass
                finally:
                    db.session.remove()
        except Exception:
            log.exception("sending the outbox failed")

    def evaluate_alerts(self) -> None:
        """Evaluate the alert rules (fire, notify, resolve); a failure is logged, the worker goes on."""
        try:
            with self.app.app_context():
                try:
                    evaluate_alerts()
                finally:
                    db.session.remove()
        except Exception:
            log.exception("alert evaluation failed")

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)
        catcher = self.app.extensions.pop("mail_catcher", None)
        if catcher is not None:
            catcher.stop()
