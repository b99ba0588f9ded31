"""How bodies look: the JSON object a request sends, and rows in API answers."""

from flask import request

from app.engine import InvalidData
from app.extensions import db
from app.models import HumanTask, ProcessDefinition, ProcessInstance, User


def json_body() -> dict:
    """The request's JSON object, or InvalidData naming the body.

    Unreadable JSON (bad syntax, `NaN`, nesting, invalid text) is a 400 from the app's strict
    parser (app/inputs.py); a body that is not JSON, or JSON that is not an object, is a 422.
    """
    data = request.get_json() if request.is_json else None
    if not isinstance(data, dict):
        raise InvalidData({"body": "send a JSON object with Content-Type: application/json"})
    return data


def iso(value):
    return value.isoformat() if value is not None else None


def tasks_json(rows: list[HumanTask]) -> list[dict]:
    """Tasks with their form schema; forms are fetched once per definition version."""
    if not rows:
        return []
    instance_ids = {r.instance_id for r in rows}
    forms_by_instance = dict(
        db.session.execute(
            db.select(ProcessInstance.id, ProcessDefinition.forms)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessInstance.id.in_(instance_ids))
        ).all()
    )
    assignee_ids = {r.assignee_id for r in rows if r.assignee_id}
    names = (
        dict(db.session.execute(db.select(User.id, User.username).where(User.id.in_(assignee_ids))).all())
        if assignee_ids
        else {}
    )
    return [
        {
            "id": r.id,
            "ticket_id": r.ticket_id,
            "instance_id": r.instance_id,
            "name": r.name,
            "title": r.title,
            "team": r.team,
            "assignee": names.get(r.assignee_id),
            "priority": r.priority,
            "form": (forms_by_instance.get(r.instance_id) or {}).get(r.form_name) if r.form_name else None,
            "instructions": r.instructions,
            "due_at": iso(r.due_at),
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]
