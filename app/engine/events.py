"""Commands for things that happen to a waiting instance: deliver_message, fire_timer."""

from datetime import timedelta

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from app.clock import utcnow
from app.engine.errors import InvalidData, NotFound
from app.engine.forms import check_plain_data
from app.engine.runner import engine_step, find_task, history, load, run_command, save
from app.engine.spiff import force_timer_due, timer_due
from app.extensions import db
from app.models import MessageSubscription, Timer


def deliver_message(ticket_id: int, name: str, payload: dict, actor: str | None = None) -> str:
    """Deliver a message (the customer's reply) to the instance of a ticket that waits for it.

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
        subscription = db.session.execute(
            db.select(MessageSubscription)
            .where(MessageSubscription.ticket_id == ticket_id, MessageSubscription.name == name)
            .order_by(MessageSubscription.created_at).limit(1)).scalar()
        if subscription is None:
            raise NotFound(f"ticket {ticket_id} is not waiting for a message '{name}'")
        loaded = load(subscription.instance_id)
        task = find_task(loaded, subscription.id)
        if task is None or task.state != TaskState.WAITING:
            raise NotFound(f"ticket {ticket_id} is not waiting for a message '{name}'")
        event = BpmnEvent(task.task_spec.event_definition, payload, {})
        engine_step(loaded, lambda: loaded.wf.send_event(event))
        engine_step(loaded, loaded.wf.do_engine_steps)
        history("message_delivered", ticket_id=ticket_id, instance_id=loaded.row.id, actor=actor,
                element_id=subscription.element_id, element_name=task.task_spec.bpmn_name,
                task_id=subscription.id, data={"name": name, "payload": payload})
        save(loaded, actor, skip_task=subscription.id)
        return subscription.element_id

    return run_command(body)


def fire_timer(timer_id: str) -> bool:
    """Fire one due timer and run the process on.

    Returns:
        True when the timer fired; False when it is not due yet or no longer waiting.

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
        task = find_task(loaded, timer_id)
        if task is None or task.state != TaskState.WAITING:
            save(loaded, None)  # the projection was stale; rewrite it
            return False
        due = timer_due(task)
        if due is None or due >= now:
            force_timer_due(task, now - timedelta(microseconds=1))
        engine_step(loaded, loaded.wf.refresh_timers)
        engine_step(loaded, loaded.wf.do_engine_steps)
        history("timer_fired", ticket_id=loaded.row.ticket_id, instance_id=row.instance_id,
                element_id=row.element_id, element_name=task.task_spec.bpmn_name, task_id=timer_id,
                data={"due_at": row.due_at.isoformat()})
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

    timer = db.session.execute(db.select(db.func.min(Timer.due_at))).scalar()
    job = db.session.execute(db.select(db.func.min(Job.next_run_at)).where(Job.status == "pending")).scalar()
    times = [t for t in (timer, job) if t is not None]
    return min(times) if times else None
