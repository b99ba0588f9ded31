"""Commands for timers: fire a due timer, claim due timers for a worker, the next time to wake up;
move an instance's timers closer (development only, the caller checks)."""

from datetime import timedelta

from SpiffWorkflow.util.task import TaskState

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
from app.models import Job, Timer

MAX_TIMER_SHIFT = 60 * 24 * 366  # minutes: a year and a day


def fire_timer(timer_id: str) -> bool:
    """Fire one due timer and run the process on.

    Returns:
        True when the timer fired; False when it is not due yet, no longer waiting, or was
        fired by another worker while this one waited for the instance.

    Raises:
        StepFailed: the process failed after the timer (the caller records an incident).
    """

    def body():
        row = db.session.get(Timer, timer_id)
        if row is None:
            return False
        now = utcnow()
        if row.due_at is None or row.due_at > now:
            return False
        loaded = load(row.instance_id)
        # Read the row again now that the instance is locked: a worker whose lease ran out may
        # have fired it (or a cycle's next round) while this one waited for the lock.
        row = db.session.execute(
            db.select(Timer).where(Timer.id == timer_id).execution_options(populate_existing=True)
        ).scalar()
        if row is None or row.due_at is None or row.due_at > now:
            return False
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

    return run_command(body)


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
