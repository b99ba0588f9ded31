"""Commands for timers: fire a due timer (or a batch of them in one transaction), claim due timers
for a worker, the next time to wake up; move an instance's timers closer (development only, the
caller checks)."""

import time
from dataclasses import dataclass
from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import joinedload

from app.clock import utcnow
from app.engine.commands.incidents import resolve_incidents
from app.engine.errors import InvalidData
from app.engine.runtime.history import history
from app.engine.runtime.leases import claim_due
from app.engine.runtime.runner import run_command
from app.engine.runtime.steps import engine_step, run_engine
from app.engine.runtime.store import find_task, load, save
from app.engine.spiff.catches import timer_catch
from app.engine.spiff.timers import cycle_state, force_timer_due, keep_cycle_schedule, timer_due
from app.extensions import db
from app.models import Incident, Job, ProcessDefinition, ProcessInstance, Ticket, Timer

MAX_TIMER_SHIFT = 60 * 24 * 366  # minutes: a year and a day


def fire_timer(timer_id: str) -> bool:
    """Fire one due timer and run the process on.

    Returns:
        True when the timer fired; False when it is not due yet, no longer waiting, or was
        fired by another worker while this one waited for the instance.

    Raises:
        StepFailed: the process failed after the timer (the caller records an incident).
    """
    return run_command(lambda: _fire(timer_id, utcnow()))


class TimerBatchFailed(Exception):
    """A timer of a batch could not fire: nothing of the batch was saved.

    `timer_id` is the timer that failed; the ones before it in the batch fired without error
    before the rollback. The worker fires that one alone (its failure becomes an incident).
    """

    def __init__(self, timer_id: str, cause: BaseException):
        super().__init__(f"timer {timer_id} failed in its batch: {type(cause).__name__}: {cause}")
        self.timer_id = timer_id


def fire_timers(timer_ids: list[str], seconds: float) -> list[str]:
    """Fire several claimed timers in one transaction: `fire_timer` for each, one commit for all.

    The history rows, the dashboard counters and the commit are shared by the batch, so a burst
    of due timers costs less per timer. The batch ends early, and its first timers commit,
    when `seconds` have passed (how long its row locks, and SQLite's write lock, are held) or
    when the next timer belongs to an instance the batch has already changed (that instance
    was saved once; its next timer goes in the next batch).

    Returns:
        The ids dealt with, a prefix of `timer_ids` (fired, or found not due or stale).

    Raises:
        TimerBatchFailed: one timer failed (a process error after it, a lost race every retry);
            nothing was saved.
    """
    current = [None]

    def body():
        now, done, changed = utcnow(), [], set()
        deadline = time.perf_counter() + seconds
        batch = _read_batch(timer_ids)
        for timer_id in timer_ids:
            if done and time.perf_counter() > deadline:
                break
            row = batch.timers.get(timer_id)
            if row is not None and row.instance_id in changed:
                break
            current[0] = timer_id
            _fire(timer_id, now, batch)
            if row is not None:
                changed.add(row.instance_id)
            done.append(timer_id)
        return done

    try:
        return run_command(body)
    except Exception as exc:
        raise TimerBatchFailed(current[0] or timer_ids[0], exc) from exc


@dataclass
class _Batch:
    """What a batch of timers reads up front, in four statements instead of five per timer."""

    timers: dict  # timer id -> Timer row, read after its instance was locked
    instances: dict  # instance id -> (ProcessInstance, ProcessDefinition), locked on PostgreSQL
    incidents: set  # the timer ids with an open incident (a retried timer)


def _read_batch(timer_ids: list[str]) -> _Batch:
    """Lock the batch's instances (in id order, so two workers never wait on each other in a
    circle) and read them with their definitions, then their timer rows, tickets and customers.
    The rows land in the command's session (runtime/kept.py): `load` finds them there."""
    query = (
        db.select(ProcessInstance, ProcessDefinition)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id.in_(db.select(Timer.instance_id).where(Timer.id.in_(timer_ids))))
        .order_by(ProcessInstance.id)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(of=ProcessInstance)
    instances = {row.id: (row, definition) for row, definition in db.session.execute(query)}
    timers = db.session.execute(
        db.select(Timer).where(Timer.id.in_(timer_ids)).execution_options(populate_existing=True)
    ).scalars()
    tickets = [row.ticket_id for row, _ in instances.values() if row.ticket_id]
    if tickets:
        db.session.execute(
            db.select(Ticket).options(joinedload(Ticket.customer)).where(Ticket.id.in_(tickets))
        ).unique().all()
    incidents = db.session.execute(
        db.select(Incident.timer_id).where(Incident.timer_id.in_(timer_ids), Incident.resolved_at.is_(None))
    ).scalars()
    return _Batch({t.id: t for t in timers}, instances, set(incidents))


def _fire(timer_id: str, now, batch: _Batch | None = None) -> bool:
    """Fire one due timer inside the running command; False when there was nothing to fire."""
    if batch is not None:  # read after the instance was locked: no second look needed
        row = batch.timers.get(timer_id)
        if row is None or row.due_at is None or row.due_at > now:
            return False
        loaded = load(row.instance_id, batch.instances.get(row.instance_id))
    else:
        row = db.session.get(Timer, timer_id)
        if row is None or row.due_at is None or row.due_at > now:
            return False
        loaded = load(row.instance_id)
        # Read the row again now that the instance is locked: a worker whose lease ran out may
        # have fired it (or a cycle's next round) while this one waited for the lock.
        row = db.session.execute(
            db.select(Timer).where(Timer.id == timer_id).execution_options(populate_existing=True)
        ).scalar()
        if row is None or row.due_at is None or row.due_at > now:
            return False
    if batch is None or timer_id in batch.incidents:
        resolve_incidents(timer_id=timer_id)  # a retried timer that fires (or has nothing left to do)
    task = find_task(loaded, timer_id)
    if task is None or task.state != TaskState.WAITING:
        db.session.delete(row)  # the projection was stale: nothing waits there any more
        return False
    due = timer_due(task)
    forced = due is None or due >= now  # due exactly now: the library fires only after
    if forced:
        force_timer_due(task, now - timedelta(microseconds=1))
    cycle = cycle_state(task)
    engine_step(loaded, loaded.wf.refresh_timers)
    if forced and due is not None:
        keep_cycle_schedule(task, due)
    run_engine(loaded)
    rounds, period = 1, 0.0
    if cycle is not None:  # a late cycle catches up: the library runs a round per refresh
        rounds, period = max(1, cycle[0] - (cycle_state(task) or (0, 0.0))[0]), cycle[1]
    for k in range(rounds):  # one row per round that fired, with its own due time
        history(
            "timer_fired",
            ticket_id=loaded.row.ticket_id,
            instance_id=row.instance_id,
            element_id=row.element_id,
            element_name=(timer_catch(task) or (None, task.task_spec))[1].bpmn_name,
            task_id=timer_id,
            data={"due_at": (row.due_at + timedelta(seconds=k * period)).isoformat()},
        )
    save(loaded, "timer", skip_task=timer_id)
    return True


def move_timers(instance_id: int, minutes: int, actor: str | None = None) -> int:
    """Bring the instance's waiting timers `minutes` closer (a test ticket's clock, in development).

    Only the due times of the `timer` rows move: the worker fires a timer whose row is due, and
    `fire_timer` forces its event due then. Returns how many timers moved.

    Raises:
        InvalidData: `minutes` is not from 1 to MAX_TIMER_SHIFT (names `minutes`).
    """
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_TIMER_SHIFT:
        raise InvalidData({"minutes": f"must be a whole number of minutes from 1 to {MAX_TIMER_SHIFT}"})

    def body():
        loaded = load(instance_id)  # locks the instance: no timer fires meanwhile
        rows = list(
            db.session.execute(
                db.select(Timer).where(Timer.instance_id == instance_id, Timer.due_at.is_not(None))
            ).scalars()
        )
        for row in rows:
            row.due_at -= timedelta(minutes=minutes)
            row.lease_until = None
        history(
            "timers_moved",
            ticket_id=loaded.row.ticket_id,
            instance_id=instance_id,
            actor=actor,
            data={"minutes": minutes, "timers": [r.element_id for r in rows]},
        )
        return len(rows)

    return run_command(body)


def claim_due_timers(limit: int, lease_seconds: int) -> list[str]:
    """Claim due timers for this worker (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""

    def due(now):
        return (
            db.select(Timer)
            .where(Timer.due_at <= now)
            .where((Timer.lease_until.is_(None)) | (Timer.lease_until < now))
            .order_by(Timer.due_at)
            .limit(limit)
        )

    def lease(timer: Timer, now) -> str:
        timer.lease_until = now + timedelta(seconds=lease_seconds)
        return timer.id

    return claim_due(due, lease)


def next_wakeup():
    """The earliest time a timer or job becomes due, or None."""
    # A timer another worker holds a lease on is that worker's; the sweep catches a lapsed lease.
    timer = db.session.execute(
        db.select(db.func.min(Timer.due_at)).where(
            (Timer.lease_until.is_(None)) | (Timer.lease_until < utcnow())
        )
    ).scalar()
    job = db.session.execute(db.select(db.func.min(Job.next_run_at)).where(Job.status == "pending")).scalar()
    times = [t for t in (timer, job) if t is not None]
    return min(times) if times else None
