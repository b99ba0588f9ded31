"""Rolling a migration back: a migrated ticket that has not moved on since goes back to its old version."""

from app.engine.commands.migration import _definition, _migrate, _running_instance
from app.engine.errors import Conflict
from app.engine.runtime.runner import run_command
from app.engine.runtime.store import load
from app.extensions import db
from app.models import HistoryEvent, ProcessDefinition, ProcessInstance

# What a ticket did after a migration that makes moving it back a new migration, not a roll back.
_MOVED_ON = ("element_completed", "task_completed", "timer_fired", "message_delivered", "service_completed")


def _refusal(ticket_id: int, instance_id: int, version: int) -> tuple[HistoryEvent | None, str | None]:
    """(the migration to undo, None) or (None, why it cannot be rolled back)."""
    last = db.session.execute(
        db.select(HistoryEvent)
        .where(HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "instance_migrated")
        .order_by(HistoryEvent.id.desc())
        .limit(1)
    ).scalar()
    if last is None or last.data.get("to_version") != version:
        return None, f"ticket {ticket_id} has no migration to roll back"
    since = db.session.execute(
        db.select(HistoryEvent.element_id)
        .where(
            HistoryEvent.instance_id == instance_id,
            HistoryEvent.id > last.id,
            HistoryEvent.kind.in_(_MOVED_ON),
        )
        .limit(1)
    ).first()
    if since is not None:
        return None, f"ticket {ticket_id} has moved on since its migration (element '{since[0]}')"
    return last, None


def rollback_check(ticket_id: int) -> dict:
    """Can the ticket's last migration be rolled back? Reads only.

    Returns:
        {ticket_id, available, to_version (the version it would go back to) | None, reason | None}.

    Raises:
        NotFound: the ticket has no running process.
    """
    row = db.session.get(ProcessInstance, _running_instance(ticket_id))
    version = db.session.get(ProcessDefinition, row.definition_id).version
    last, reason = _refusal(ticket_id, row.id, version)
    back = last.data.get("from_version") if last is not None else None
    return {"ticket_id": ticket_id, "available": last is not None, "to_version": back, "reason": reason}


def rollback_migration(ticket_id: int, *, actor: str | None = None) -> dict:
    """Move a migrated ticket back to the version it came from, while it has not moved on since.

    Raises:
        NotFound: no running process. Conflict: never migrated, moved on since (the message names
        the element), or the old version no longer takes it.
    """

    def body():
        loaded = load(_running_instance(ticket_id))
        last, reason = _refusal(ticket_id, loaded.row.id, loaded.definition.version)
        if last is None:
            raise Conflict(reason)
        back = {new: old for old, new in (last.data.get("mapping") or {}).items()}
        target = _definition(loaded.definition.key, last.data["from_version"], "from_version")
        return _migrate(loaded, ticket_id, target, back, actor, "migration_rolled_back")

    return run_command(body)
