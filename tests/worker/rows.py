"""Read helpers for the worker tests: what is open, what waits, what fired (fresh from the database)."""

from app.extensions import db
from app.models import HistoryEvent, HumanTask, MessageSubscription, Timer


def fresh() -> None:
    """End the session's read transaction: a worker in another session may have committed since."""
    db.session.commit()


def open_tasks() -> list[str]:
    """BPMN ids of the open user tasks, sorted."""
    fresh()
    return sorted(db.session.execute(db.select(HumanTask.name)).scalars())


def timers() -> list[Timer]:
    fresh()
    return list(db.session.execute(db.select(Timer).order_by(Timer.due_at)).scalars())


def subscriptions() -> list[tuple[str, str]]:
    """(message name, element id) of every message subscription."""
    fresh()
    return [
        tuple(r)
        for r in db.session.execute(db.select(MessageSubscription.name, MessageSubscription.element_id))
    ]


def fired() -> list[tuple[str, str]]:
    """(element id, task id) of every timer_fired history row, oldest first."""
    fresh()
    return [
        tuple(r)
        for r in db.session.execute(
            db.select(HistoryEvent.element_id, HistoryEvent.task_id)
            .where(HistoryEvent.kind == "timer_fired")
            .order_by(HistoryEvent.id)
        )
    ]
