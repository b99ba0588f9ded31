"""Messages from outside (the customer's reply) delivered to the waiting instance of a ticket."""

from flask import g, jsonify

from app.api import bp
from app.api.auth import STAFF, token_required
from app.api.errors import json_body
from app.engine import InvalidData, deliver_message


@bp.post("/messages")
@token_required(*STAFF)
def post_message():
    """Deliver `{name, ticket_id, payload}`; 404 when nothing waits for it."""
    body = json_body()
    ticket_id = body.get("ticket_id")
    if not isinstance(ticket_id, int):
        raise InvalidData({"ticket_id": "an integer ticket id is required"})
    element = deliver_message(ticket_id, body.get("name"), body.get("payload", {}),
                              actor=g.api_user.username)
    return jsonify({"delivered": True, "ticket_id": ticket_id, "element_id": element})
