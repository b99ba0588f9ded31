"""Messages from outside (the customer's reply, an order update) delivered to the instance waiting for them.

With `ticket_id` the message goes to that ticket; without it the engine finds the one waiting
instance by the message's correlation keys (computed from the payload, plus `correlation_keys`).
"""

from flask import g, jsonify

from app.api.auth import token_required
from app.api.blueprint import bp
from app.api.serialize import json_body
from app.engine import AmbiguousMessage, deliver_correlated_message, deliver_message
from app.errors import json_error
from app.inputs import body_int, body_text
from app.models import STAFF

MAX_NAME = 200  # characters of a message name


@bp.post("/messages")
@token_required(*STAFF)
def post_message():
    """Deliver `{name, ticket_id?, correlation_keys?, payload}`.

    404 when nothing waits for it, 409 listing the tickets when several match, 422 when a
    correlation property cannot be read from the payload.
    """
    body = json_body()
    ticket_id = body_int(body, "ticket_id")  # none: find the ticket by correlation keys
    body_text(body, "name", MAX_NAME)
    name, payload = body.get("name"), body.get("payload", {})
    correlation_keys = body.get("correlation_keys")
    if ticket_id is not None:
        element = deliver_message(
            ticket_id, name, payload, actor=g.api_user.username, correlation_keys=correlation_keys
        )
        return jsonify({"delivered": True, "ticket_id": ticket_id, "element_id": element})
    try:
        delivery = deliver_correlated_message(name, payload, correlation_keys, actor=g.api_user.username)
    except AmbiguousMessage as exc:
        return json_error(exc.status, exc.message, matches=exc.matches)
    return jsonify({"delivered": True, **delivery})
