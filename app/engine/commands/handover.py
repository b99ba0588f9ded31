"""The command that takes every open task away from a person who leaves: hand_over_tasks.

Deactivating an agent must never leave tasks with an inactive person. The admin page and the
`flask users deactivate` command call this with the deactivation itself as `also`, so the
account change and the handover commit in one transaction, or neither does.
"""

from collections.abc import Callable

from app.clock import utcnow
from app.engine.commands.agent_mail import mail_task_assigned
from app.engine.commands.tasks import _task_history
from app.engine.errors import InvalidData
from app.engine.runtime.runner import run_command
from app.extensions import db
from app.models import HumanTask, TicketAgent, User


def hand_over_tasks(
    user: User, to: User | None, actor: str, also: Callable[[], None] | None = None
) -> list[HumanTask]:
    """Give every open task assigned to `user` back to its team's queue, or to `to`.

    Args:
        user: the person whose tasks move (usually being deactivated).
        to: an active staff member who takes them all, or None for each task's team queue.
        actor: who asked (an admin's username, or "cli"), for the tasks' history.
        also: run first in the same transaction (the deactivation), so both commit together.

    Returns:
        The tasks that moved.

    Raises:
        InvalidData: naming `reassign_to` when `to` is `user`, inactive or not staff.
    """
    if to is not None and (to.id == user.id or not to.active or to.role == "customer"):
        raise InvalidData(
            {"reassign_to": f"'{to.username}' cannot take the tasks: choose another active agent"},
            "the tasks cannot go to that person",
        )

    def body():
        if also is not None:
            also()
        rows = list(
            db.session.execute(
                db.select(HumanTask).where(HumanTask.assignee_id == user.id).order_by(HumanTask.created_at)
            ).scalars()
        )
        for row in rows:
            row.assignee_id = to.id if to is not None else None
            if to is None:
                _task_history(
                    "task_released", row, actor, data={"from": user.username, "reason": "deactivated"}
                )
            else:
                mail_task_assigned(row, to.id, actor)
                _task_history(
                    "task_reassigned",
                    row,
                    actor,
                    data={"assignee": to.username, "from": user.username, "reason": "deactivated"},
                )
        # Later tasks of these tickets no longer go back to `user` (they would be refused anyway).
        remembered = TicketAgent.user_id == user.id
        if to is None:
            db.session.execute(db.delete(TicketAgent).where(remembered))
        else:
            db.session.execute(
                db.update(TicketAgent).where(remembered).values(user_id=to.id, updated_at=utcnow())
            )
        return rows

    return run_command(body)
