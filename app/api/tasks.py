"""User tasks: list open ones with their forms; claim, release, complete."""

from flask import g, jsonify

from app.access import closed_task_visible, scope_of, sees_task, task_condition
from app.api.auth import token_required
from app.api.blueprint import bp
from app.api.serialize import json_body, tasks_json
from app.engine import NotFound, TaskNotOpen, claim_task, complete_task, release_task
from app.extensions import db
from app.inputs import query_enum, query_int, query_text
from app.models import STAFF, HumanTask, User


@bp.get("/tasks")
@token_required(*STAFF)
def list_tasks():
    """Open tasks; filters: ticket_id, team, assignee (username, or 'none'), state (open|claimed)."""
    query = db.select(HumanTask).where(task_condition(scope_of(g.api_user)))
    ticket_id, team, assignee = query_int("ticket_id"), query_text("team", 64), query_text("assignee", 80)
    if ticket_id is not None:
        query = query.where(HumanTask.ticket_id == ticket_id)
    if team:
        query = query.where(HumanTask.team == team)
    if assignee == "none":
        query = query.where(HumanTask.assignee_id.is_(None))
    elif assignee:
        user_id = db.session.execute(db.select(User.id).where(User.username == assignee)).scalar()
        # An unknown username matches nothing (comparing with None would mean "unassigned").
        query = (
            query.where(HumanTask.assignee_id == user_id) if user_id is not None else query.where(db.false())
        )
    state = query_enum("state", ("claimed", "unclaimed"))
    if state == "claimed":
        query = query.where(HumanTask.assignee_id.is_not(None))
    elif state == "unclaimed":
        query = query.where(HumanTask.assignee_id.is_(None))
    limit = query_int("limit", 100, minimum=1, maximum=500)
    rows = (
        db.session.execute(query.order_by(HumanTask.due_at, HumanTask.created_at).limit(limit))
        .scalars()
        .all()
    )
    return jsonify({"tasks": tasks_json(rows)})


def _acting(task_id: str, command):
    """Run `command(visible)` for the caller: an agent acts on tasks of their teams only, and
    anything else is answered like a missing task. The command reads the open task once, in its
    own transaction, and asks `visible`; a task that is no longer open is told apart from an
    unknown one only to those who could see it."""
    try:
        return command(sees_task(g.api_user))  # the caller's teams read only if the task needs them
    except TaskNotOpen:
        if not closed_task_visible(scope_of(g.api_user), task_id, g.api_user.username):
            raise NotFound(f"task {task_id} not found") from None
        raise


@bp.post("/tasks/<task_id>/claim")
@token_required(*STAFF)
def claim(task_id: str):
    """Claim an open task for the caller."""
    task = _acting(task_id, lambda visible: claim_task(task_id, g.api_user, visible))
    return jsonify({"task": tasks_json([task])[0]})


@bp.post("/tasks/<task_id>/release")
@token_required(*STAFF)
def release(task_id: str):
    """Give a claimed task back to its team."""
    task = _acting(task_id, lambda visible: release_task(task_id, g.api_user, visible))
    return jsonify({"task": tasks_json([task])[0]})


@bp.post("/tasks/<task_id>/complete")
@token_required(*STAFF)
def complete(task_id: str):
    """Complete a task with `{data}`: validated against its form, or merged by the formless rules
    when it has none; 409 if no longer open, 422 naming the element when a following step fails."""
    data = json_body().get("data", {})
    opened = _acting(task_id, lambda visible: complete_task(task_id, data, g.api_user, visible))
    return jsonify({"completed": task_id, "opened_tasks": opened})
