"""What the ticket page offers a manager or admin about the ticket's version: "Move to version N"
(with the dry run's answer for this ticket) and the roll back of its last migration, when possible."""

from app.engine import EngineError, latest_definition, migration_check, rollback_check
from app.models import ProcessInstance, User

MIGRATORS = ("manager", "admin")


def migration_offer(instance: ProcessInstance | None, definition: dict | None, user: User) -> dict | None:
    """{target, check, rollback} for a running ticket, or None (nothing to offer, or not theirs to do).

    `definition` is the instance's {key, version} (as `element_states` answers it).
    `check` is `migration_check` against the newest version (None when the ticket is on it);
    `rollback` is `rollback_check`.
    """
    if user.role not in MIGRATORS or instance is None or instance.status != "running":
        return None
    if not definition or instance.ticket_id is None:
        return None
    newest = latest_definition(definition["key"], "bpmn")
    try:
        check = (
            migration_check(instance.ticket_id, newest.version)
            if newest is not None and newest.version != definition["version"]
            else None
        )
        rollback = rollback_check(instance.ticket_id)
    except EngineError:
        return None
    if check is None and not rollback["available"]:
        return None
    return {"target": newest.version if check else None, "check": check, "rollback": rollback}
