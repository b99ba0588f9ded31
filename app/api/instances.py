"""Where a ticket's process instance stands on its diagram: element states for a viewer."""

from flask import g, jsonify, url_for

from app.access import scope_of, ticket_visible
from app.api.auth import token_required
from app.api.blueprint import bp
from app.api.serialize import iso
from app.engine import element_states, instance_of_ticket
from app.errors import json_error
from app.models import STAFF


@bp.get("/tickets/<int:ticket_id>/instance")
@token_required(*STAFF)
def ticket_instance(ticket_id: int):
    """The ticket's latest instance: per BPMN element its state, counts, timer due times, messages."""
    if ticket_id >= 2**63 or not ticket_visible(scope_of(g.api_user), ticket_id, g.api_user.username):
        return json_error(404, f"ticket {ticket_id} not found")
    instance = instance_of_ticket(ticket_id)
    states = element_states(instance)
    definition = states["definition"]
    return jsonify(
        {
            "ticket_id": ticket_id,
            "instance": {
                "id": instance.id,
                "status": instance.status,
                "created_at": iso(instance.created_at),
                "ended_at": iso(instance.ended_at),
            },
            "definition": definition,
            "diagram_url": url_for(
                "api.definition_version", key=definition["key"], version=definition["version"]
            ),
            "elements": states["elements"],
        }
    )
