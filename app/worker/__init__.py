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

from app import faults
from app.clock import utcnow
from app.dashboard.alerts import evaluate_alerts
from app.engine import (
    StepFailed,
    TimerBatchFailed,
    claim_due_timers,
    claim_jobs,
    complete_job,
    fail_job,
    fire_timer,
    fire_timers,
    next_wakeup,
    receive_customer_mail,
    record_incident,
    release_claims,
    run_migration_chunk,
)
from app.extensions import db
from app.handlers import HANDLERS, HandlerContext, HandlerRefused
from app.logs import log_context
from app.mail import send_due_mail
from app.mail.catcher import start_catcher
from app.mail.gateway import start_embedded_gateway
from app.mail.smtp import settings_from
from app.transactions import write_transaction
from app.webhooks import deliver_due_webhooks, enqueue_sla_breaches

log = logging.getLogger(__name__)
BATCH = 50


def run_job(job) -> bool:
    """Run one claimed job's handler, then complete or fail it. Returns True if completed."""
    with log_context(ticket_id=job.ticket_id, element=job.element_id, job_id=job.id, operator=job.operator):
        return _run_job(job)


def _run_job(job) -> bool:
    handler = HANDLERS.get(job.operator)
    try:
        if handler is None:
            raise LookupError(f"no handler for operator '{job.operator}'")
        ctx = HandlerContext(job.ticket_id, job.instance_id, job.idempotency_key, job.attempt, job.element_id)
        with write_transaction():  # the handler's own rows: BEGIN IMMEDIATE on SQLite
            result = json.loads(json.dumps(handler(dict(job.params), ctx)))
            faults.point("after_provider_call")  # fault suite only: a no-op unless TICKETFLOW_FAULT
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
    faults.point("before_complete_job")
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
    with log_context(timer_id=timer_id, **_timer_fields(timer_id)):
        return _fire(timer_id)


def _timer_fields(timer_id: str) -> dict:
    """The ticket and element of a timer, for its command's log line (read only when it is logged)."""
    if not logging.getLogger("ticketflow.command").isEnabledFor(logging.INFO):
        return {}
    from app.models import ProcessInstance, Timer

    row = db.session.execute(
        db.select(Timer.element_id, ProcessInstance.ticket_id)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.id == timer_id)
    ).first()
    db.session.rollback()  # end the read: the command begins its own write transaction
    return {"element": row.element_id, "ticket_id": row.ticket_id} if row else {}


def _fire(timer_id: str) -> bool:
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


def work_once(stop: threading.Event | None = None) -> int:
    """One round: run due jobs, fire due timers, move a chunk of a migration batch. Returns how many
    were handled.

    With `stop` set (SIGTERM), the job or timer in hand is finished and the rest of the round's
    claims are released at once (`release_claims`), so other workers take them without waiting
    for the lease to run out.
    """
    lease = current_app.config["JOB_LEASE_SECONDS"]
    handled = 0
    jobs = claim_jobs(BATCH, lease)
    for index, job in enumerate(jobs):
        if stop is not None and stop.is_set():
            _release([j.id for j in jobs[index:]], [])
            return handled
        run_job(job)
        handled += 1
    if stop is not None and stop.is_set():
        return handled
    timer_ids = claim_due_timers(BATCH, lease)
    handled += fire_claimed(timer_ids, stop)
    if stop is not None and stop.is_set():
        return handled
    return handled + run_migration_chunk(lease_seconds=lease)


def fire_claimed(timer_ids: list[str], stop: threading.Event | None = None) -> int:
    """Fire claimed timers, several per transaction (`fire_timers`); returns how many were handled.

    A batch in which one timer fails saved nothing: the timers before that one fire again in the
    next batch, and that one fires alone, so its failure becomes its incident (`fire`). With
    `stop` set, the batch in hand commits and the rest of the claims are released.
    """
    size, seconds = current_app.config["TIMER_BATCH"], current_app.config["TIMER_BATCH_SECONDS"]
    handled, index, limit, failing = 0, 0, size, None
    while index < len(timer_ids):
        if stop is not None and stop.is_set():
            _release([], timer_ids[index:])
            break
        batch, limit = timer_ids[index : index + limit], size
        if len(batch) == 1 or batch[0] == failing:
            fire(batch[0])
            done = 1
        else:
            try:
                with log_context(timer_id=batch[0], timers=len(batch)):
                    done = len(fire_timers(batch, seconds))
            except TimerBatchFailed as failed:
                db.session.rollback()
                log.info("a batch of timers failed at timer %s, which fires alone", failed.timer_id)
                failing, position = failed.timer_id, batch.index(failed.timer_id)
                if position:  # the ones before it fired without error: again, as a batch of their own
                    limit = position
                    continue
                fire(failing)
                done = 1
        handled += done
        index += done
    return handled


def _release(job_ids: list[int], timer_ids: list[str]) -> None:
    released = release_claims(job_ids, timer_ids)
    log.info("stopping: released %s claimed job(s) and timer(s) for other workers", released)


def drain(max_rounds: int = 1000, stop: threading.Event | None = None) -> int:
    """Work until nothing is due now (or `stop` is set). Returns the number of jobs and timers handled."""
    total = 0
    for _ in range(max_rounds):
        if stop is not None and stop.is_set():
            return total
        handled = work_once(stop)
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
        self.stopping = threading.Event()  # set by stop(): finish the item in hand, release the rest

    def start(self, paused: bool = False) -> None:
        """Sweep now and every WORKER_SWEEP_SECONDS; paused: schedule only (tests call tick())."""
        sweep = self.app.config["WORKER_SWEEP_SECONDS"]
        self.scheduler.add_job(self.tick, "interval", seconds=sweep, id="sweep", next_run_time=utcnow())
        catcher = start_catcher(self.app)  # development: MAIL_CATCHER=1 without MAIL_HOST
        start_embedded_gateway(self.app, receive_customer_mail)  # development: MAIL_GATEWAY_EMBEDDED=1
        if settings_from(self.app.config, catcher.port if catcher else None) is not None:
            # Mail on a job of its own: a slow or unreachable SMTP server never delays jobs and timers.
            self.scheduler.add_job(
                self.send_mail, "interval", seconds=sweep, id="mail", next_run_time=utcnow()
            )
        webhooks = self.app.config.get("WEBHOOK_SWEEP_SECONDS") or 0
        if webhooks > 0:  # on a job of their own: a slow receiver never delays jobs, timers or mail
            self.scheduler.add_job(
                self.send_webhooks, "interval", seconds=webhooks, id="webhooks", next_run_time=utcnow()
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
                    drain(stop=self.stopping)
                    if self.stopping.is_set():
                        return
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
                    while not self.stopping.is_set() and send_due_mail() > 0:
                        pass
                finally:
                    db.session.remove()
        except Exception:
            log.exception("sending the outbox failed")

    def send_webhooks(self) -> None:
        """Announce new SLA breaches, then send the due webhook deliveries (app/webhooks) until none is due."""
        try:
            with self.app.app_context():
                try:
                    enqueue_sla_breaches()
                    while deliver_due_webhooks() > 0:
                        pass
                finally:
                    db.session.remove()
        except Exception:
            log.exception("sending webhooks failed")

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

    def stop(self) -> None:
        """Graceful stop (SIGTERM): claim nothing more, finish the job or timer in hand, release
        the rest of the round's claims, wait for the running round and mail batch, then shut down."""
        self.stopping.set()
        self.shutdown(wait=True)
        log.info("worker stopped")

    def shutdown(self, wait: bool = False) -> None:
        self.stopping.set()
        self.scheduler.shutdown(wait=wait)
        catcher = self.app.extensions.pop("mail_catcher", None)
        if catcher is not None:
            catcher.stop()
        gateway = self.app.extensions.pop("mail_gateway", None)
        if gateway is not None:
            gateway.stop()
