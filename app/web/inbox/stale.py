"""A completion that came too late: who completed the task and when, and what the agent had typed,
so the "no longer open" page can name them and let the agent copy their answer."""

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db
from app.models import HistoryEvent, User

NOT_TYPED = {"csrf_token", "next"}


@dataclass
class Completion:
    name: str  # the person's display name (their username when unknown)
    at: datetime
    title: str | None


def completed_by(task_id: str) -> Completion | None:
    """Who completed the task and when, from its `task_completed` history (None otherwise)."""
    found = db.session.execute(
        db.select(HistoryEvent.actor, HistoryEvent.at, HistoryEvent.element_name)
        .where(HistoryEvent.task_id == task_id[:36], HistoryEvent.kind == "task_completed")
        .order_by(HistoryEvent.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    actor, at, title = found
    name = None
    if actor:
        name = db.session.execute(db.select(User.name).where(User.username == actor)).scalar()
    return Completion(name=name or actor or "Someone else", at=at, title=title)


def typed_values(form) -> list[tuple[str, str]]:
    """(field, text) of what the agent typed in a submitted form, without empty fields and tokens."""
    typed = []
    for field in form:
        if field in NOT_TYPED:
            continue
        values = [v for v in form.getlist(field) if isinstance(v, str) and v.strip()]
        if values:
            typed.append((field, "\n".join(values)))
    return typed
