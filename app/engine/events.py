"""Commands for things that happen to a waiting instance: deliver_message, fire_timer."""

from collections.abc import Callable
from datetime import timedelta

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from app.clock import utcnow
from app.engine.errors import InvalidData, NotFound
from app.engine.forms import check_plain_data
from app.engine.runner import engine_step, find_task, history, load, run_command, save
from app.engine.spiff import (
    cycle_state,
    force_timer_due,
    keep_cycle_schedule,
    message_catch,
    timer_catch,
    timer_due,
)
from app.extensions import db
from app.models import MessageSubscription, Timer


def deliver_message(ticket_id: int, name: str, payload: dict, actor: str | None = None,
                    store_first: Callable[[], None] | None = None) -> str:
    """Deliver a message (the customer's reply) to the instance of a ticket that waits for it.

    Args:
        store_first: writes business rows (the customer's answer) inside the command's
            transaction before delivering: they commit with the delivery or not at all, and
            if it raises nothing is delivered.

    Returns:
        The BPMN id of the event that caught it.

    Raises:
        NotFound: nothing of that ticket waits for a message of that name (404).
        InvalidData: the payload is not a plain JSON object.
    """
    if not isinstance(name, str) or not name:
        raise InvalidData({"name": "a message name is required"})
    check_plain_data(payload, "payload")

    def body():
        if store_first is not None:
            store_first()
        subscription = db.session.execute(
            db.select(MessageSubscription)
            .where(MessageSubscription.ticket_id == ticket_id, MessageSubscription.name == name)
            .order_by(MessageSubscription.created_at).limit(1)).scalar()
        if subscription is None:
            raise NotFound(f"ticket {ticket_id} is not waiting for a message '{name}'")
        loaded = load(subscription.instance_id)
        task = find_task(loaded, subscription.id)
        # The catch event itself, or the one behind an event-based gateway that waits for it.
        catch = message_catch(task, name) if task is not None and task.state == TaskState.WAITING else None
        if catch is None:
            raise NotFound(f"ticket {ticket_id} is not waiting for a message '{name}'")
        event = BpmnEvent(catch[0], payload, {})
        engine_step(loaded, lambda: loaded.wf.send_event(event))
        engine_step(loaded, loaded.wf.do_engine_steps)
        history("message_delivered", ticket_id=ticket_id, instance_id=loaded.row.id, actor=actor,
                element_id=subscription.element_id, element_name=catch[1].bpmn_name,
                task_id=subscription.id, data={"name": name, "payload": payload})
        save(loaded, actor, skip_task=subscription.id)
        return subscription.element_id

    return run_command(body)


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
        row = db.session.execute(db.select(Timer).where(Timer.id == timer_id)
                                 .execution_options(populate_existing=True)).scalar()
        if row is None or row.due_at is None or row.due_at > now:
            return False
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
        engine_step(loaded, loaded.wf.do_engine_steps)
        rounds, period = 1, 0.0
        if cycle is not None:  # a late cycle catches up: the library runs a round per refresh
            rounds, period = max(1, cycle[0] - (cycle_state(task) or (0, 0.0))[0]), cycle[1]
        for k in range(rounds):  # one row per round that fired, with its own due time
            history("timer_fired", ticket_id=loaded.row.ticket_id, instance_id=row.instance_id,
                    element_id=row.element_id,
                    element_name=(timer_catch(task) or (None, task.task_spec))[1].bpmn_name,
                    task_id=timer_id,
                    data={"due_at": (row.due_at + timedelta(seconds=k * period)).isoformat()})
        save(loaded, "timer", skip_task=timer_id)
        return True

    return run_command(body)


def waiting_of(instance_id: int) -> dict:
    """What an instance waits for: message names and timers with due times."""
    messages = db.session.execute(db.select(MessageSubscription.name, MessageSubscription.element_id)
                                  .where(MessageSubscription.instance_id == instance_id)).all()
    timers = db.session.execute(db.select(Timer.element_id, Timer.due_at)
                                .where(Timer.instance_id == instance_id)).all()
    return {
        "messages": [{"name": n, "element_id": e} for n, e in messages],
        "timers": [{"element_id": e, "due_at": d.isoformat() if d else None} for e, d in timers],
    }




def claim_due_timers(limit: int, lease_seconds: int) -> list[str]:
    """Claim due timers for this worker (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""

    def body():
        now = utcnow()
        query = (db.select(Timer).where(Timer.due_at <= now)
                 .where((Timer.lease_until.is_(None)) | (Timer.lease_until < now))
                 .order_by(Timer.due_at).limit(limit))
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        timers = db.session.execute(query).scalars().all()
        for timer in timers:
            timer.lease_until = now + timedelta(seconds=lease_seconds)
        return [t.id for t in timers]

    return run_command(body)


def next_wakeup():
    """The earliest time a timer or job becomes due, or None."""
    from app.models import Job

    # A timer another worker holds a lease on is that worker's; the sweep catches a lapsed lease.
    timer = db.session.execute(db.select(db.func.min(Timer.due_at)).where(
        (Timer.lease_until.is_(None)) | (Timer.lease_until < utcnow()))).scalar()
    job = db.session.execute(db.select(db.func.min(Job.next_run_at)).where(Job.status == "pending")).scalar()
    times = [t for t in (timer, job) if t is not None]
    return min(times) if times else None
