"""Driving one test ticket through the real commands: service jobs (mocked or real handler),
due timers, time passing (the instance's timers brought closer, `move_timers`), user tasks and
messages. Every action counts against the scenario's step and time budget (`Budget`)."""

import json
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.clock import utcnow
from app.engine.commands.customer_messages import READ_TASK
from app.engine.commands.incidents import record_incident
from app.engine.commands.jobs import complete_job, fail_job
from app.engine.commands.timers import fire_timer, move_timers
from app.engine.errors import StepFailed
from app.extensions import db
from app.handlers import HANDLERS, HandlerContext, HandlerRefused
from app.models import HumanTask, Incident, Job, MessageSubscription, ProcessInstance, Timer
from app.transactions import write_transaction


class ScenarioFailed(Exception):
    """The scenario cannot go on (or its budget ran out): `element_id` is where."""

    def __init__(self, element_id: str | None, message: str):
        super().__init__(message)
        self.element_id, self.message = element_id, message


@dataclass
class Budget:
    steps: int
    deadline: float
    taken: int = 0

    def tick(self, where: str | None) -> None:
        self.taken += 1
        if self.taken > self.steps:
            raise ScenarioFailed(
                where,
                f"stopped after {self.steps} test steps (PROCESS_TEST_STEPS): the process keeps going "
                "round a loop the scenario does not end",
            )
        if time.perf_counter() > self.deadline:
            raise ScenarioFailed(where, "stopped: the tests ran out of time (PROCESS_TEST_SECONDS)")


@dataclass
class Ticket:
    """The test ticket being driven and what the scenario still has to give it."""

    ticket_id: int
    instance_id: int
    tasks: dict  # task id -> list of submissions left
    services: dict  # task id or operator -> list of results (the last one repeats)
    budget: Budget
    mocked: list = field(default_factory=list)  # (element id, operator) of every mocked call

    # ------------------------------------------------------------------ what it waits for
    def status(self) -> str:
        db.session.expire_all()
        return db.session.get(ProcessInstance, self.instance_id).status

    def open_tasks(self) -> list[HumanTask]:
        return list(
            db.session.execute(
                db.select(HumanTask)
                .where(HumanTask.instance_id == self.instance_id, HumanTask.name != READ_TASK)
                .order_by(HumanTask.created_at, HumanTask.id)
            ).scalars()
        )

    def waiting_at(self) -> list[str]:
        """Element ids it waits at: open user tasks, message catches, timers (in that order)."""
        ids = [t.name for t in self.open_tasks()]
        ids += db.session.execute(
            db.select(MessageSubscription.element_id).where(
                MessageSubscription.instance_id == self.instance_id
            )
        ).scalars()
        ids += db.session.execute(
            db.select(Timer.element_id).where(Timer.instance_id == self.instance_id).order_by(Timer.due_at)
        ).scalars()
        return list(dict.fromkeys(i for i in ids if i))

    def incident(self) -> Incident | None:
        return db.session.execute(
            db.select(Incident)
            .where(Incident.instance_id == self.instance_id, Incident.resolved_at.is_(None))
            .order_by(Incident.id)
            .limit(1)
        ).scalar()

    # ------------------------------------------------------------------ the worker's part
    def run_due(self) -> None:
        """Run its due jobs and fire its due timers until none is due (as the worker would)."""
        while True:
            jobs = list(
                db.session.execute(
                    db.select(Job)
                    .where(Job.instance_id == self.instance_id, Job.status == "pending")
                    .where(Job.next_run_at <= utcnow())
                    .order_by(Job.id)
                ).scalars()
            )
            timers = list(
                db.session.execute(
                    db.select(Timer.id, Timer.element_id)
                    .where(Timer.instance_id == self.instance_id, Timer.due_at <= utcnow())
                    .order_by(Timer.due_at)
                ).all()
            )
            if not jobs and not timers:
                return
            for job in jobs:
                self.budget.tick(job.element_id)
                self._run_job(job)
            for timer_id, element_id in timers if not jobs else []:
                self.budget.tick(element_id)
                self._fire(timer_id, element_id)
                break  # one timer at a time: firing it may cancel the others

    def _run_job(self, job: Job) -> None:
        job_id, element_id, operator = job.id, job.element_id, job.operator
        results = self.services.get(element_id) or self.services.get(operator)
        try:
            if results is not None:  # mocked: the real handler is never called
                result = results.pop(0) if len(results) > 1 else results[0]
                self.mocked.append((element_id, operator))
            else:
                result = self._real_handler(job)
        except HandlerRefused as exc:
            db.session.rollback()
            fail_job(job_id, str(exc), kind=type(exc).__name__, refused=True)
            return
        except Exception as exc:  # a handler's failure: an incident at once (tests do not wait for retries)
            db.session.rollback()
            message = f"{operator} failed: {type(exc).__name__}: {exc}"
            record_incident(self.instance_id, element_id, "job", message, job_id=job_id)
            return
        try:
            complete_job(job_id, json.loads(json.dumps(result)))
        except StepFailed as exc:
            fail_job(job_id, exc.message, final=True)

    @staticmethod
    def _real_handler(job: Job) -> dict:
        """The operator's own handler, inside the test's transaction (rolled back at the end)."""
        handler = HANDLERS.get(job.operator)
        if handler is None:
            raise HandlerRefused(f"no handler for operator '{job.operator}'")
        ctx = HandlerContext(job.ticket_id, job.instance_id, job.idempotency_key, job.attempts + 1)
        params = dict(job.params or {})
        with write_transaction():
            return handler(params, ctx)

    def _fire(self, timer_id: str, element_id: str) -> None:
        try:
            fire_timer(timer_id)
        except StepFailed as exc:
            record_incident(
                self.instance_id, exc.element_id or element_id, "timer", exc.message, timer_id=timer_id
            )

    # ------------------------------------------------------------------ time passing
    def _next_due(self, element_id: str | None = None):
        query = db.select(db.func.min(Timer.due_at)).where(
            Timer.instance_id == self.instance_id, Timer.due_at.is_not(None)
        )
        if element_id is not None:
            query = query.where(Timer.element_id == element_id)
        return db.session.execute(query).scalar()

    def _move(self, seconds: float) -> int:
        """Bring the instance's timers `seconds` closer (whole minutes, rounded up); the minutes moved."""
        minutes = max(0, math.ceil(seconds / 60))
        if minutes >= 1:
            move_timers(self.instance_id, minutes, actor="process test")
        return minutes

    def advance(self, duration: str) -> None:
        """Let `duration` pass: each timer due within it fires in turn, then the rest moves closer."""
        remaining = _as_timedelta(TimerEventDefinition.parse_iso_duration(duration)).total_seconds()
        while True:
            self.run_due()
            due = self._next_due()
            if due is None:
                return
            self.budget.tick(None)
            gap = max(0.0, (due - utcnow()).total_seconds())
            if gap > remaining:
                whole = int(remaining // 60)
                if whole >= 1:
                    move_timers(self.instance_id, whole, actor="process test")
                return
            remaining = max(0.0, remaining - self._move(gap) * 60)

    def until(self, element_id: str) -> None:
        """Let time pass until the timer at `element_id` fires (its business calendar included)."""
        due = self._next_due(element_id)
        if due is None:
            raise ScenarioFailed(
                element_id,
                f"time was to pass until the timer '{element_id}' fires, but no timer waits there "
                f"(the process waits at {listed(self.waiting_at())})",
            )
        while due is not None:
            self.budget.tick(element_id)
            self._move(max(0.0, (due - utcnow()).total_seconds()))
            self.run_due()
            due = self._next_due(element_id)


def _as_timedelta(parsed: dict) -> timedelta:
    """SpiffWorkflow's parsed ISO duration ({years, months, weeks, days, ...}) as a timedelta
    (a month is 30 days, a year 365: time passing in a test needs no calendar months)."""
    return timedelta(
        days=parsed.get("years", 0) * 365 + parsed.get("months", 0) * 30 + parsed.get("days", 0),
        weeks=parsed.get("weeks", 0),
        hours=parsed.get("hours", 0),
        minutes=parsed.get("minutes", 0),
        seconds=parsed.get("seconds", 0),
    )


def listed(ids: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids) if ids else "nothing: it has ended or is stuck"
