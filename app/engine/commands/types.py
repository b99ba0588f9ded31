"""Ticket types as a whole: retiring one (no new tickets; running ones finish) and bringing it back."""

from app.clock import utcnow
from app.engine.commands.deploy import latest_definition
from app.engine.errors import NotFound
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.extensions import db
from app.models import ProcessType


def is_retired(key: str) -> bool:
    row = db.session.get(ProcessType, key)
    return row is not None and row.retired_at is not None


def retired_types() -> set[str]:
    return set(
        db.session.execute(db.select(ProcessType.key).where(ProcessType.retired_at.is_not(None))).scalars()
    )


def retire_type(
    key: str, retired: bool = True, actor_id: int | None = None, actor: str | None = None
) -> bool:
    """Retire a deployed ticket type (`retired=False` brings it back); returns the new state.

    A retired type opens no new tickets (start_process refuses it naming `type`); tickets
    already running on any of its versions finish as they would have.

    Raises:
        NotFound: no process of that key was deployed.
    """

    def body():
        if latest_definition(key, "bpmn") is None:
            raise NotFound(f"no ticket type '{key}'")
        row = db.session.get(ProcessType, key)
        if row is None:
            row = ProcessType(key=key)
            db.session.add(row)
        was = row.retired_at is not None
        if was != retired:
            row.retired_at = utcnow() if retired else None
            row.retired_by_id = actor_id if retired else None
            history(
                "type_retired" if retired else "type_unretired",
                actor=actor,
                element_id=key,
                data={"key": key},
            )
        return retired

    return run_command(body)
