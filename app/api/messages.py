"""Messages from outside (the customer's reply, an order update) delivered to the instance waiting for them.

With `ticket_id` the message goes to that ticket; without it the engine finds the one waiting
instance by the message's correlation keys (computed from the payload, plus `correlation_keys`).

Only to tickets the caller may act on (`app.access.message_ticket_condition`): a customer to
their own tickets (customer messages only), staff to their teams' tickets, admins and tokens
with the `messages` scope to any. Any other ticket answers the same 404 as a ticket that waits
for nothing, and delivering grants no access to the ticket afterwards.
"""

from flask import g, jsonify

from app.access import may_deliver_message, message_ticket_condition
from app.api.auth import token_required
from app.api.blueprint import bp
from app.api.serialize import json_body
from app.engine import AmbiguousMessage, InvalidData, deliver_correlated_message, deliver_message
from app.errors import json_error
from app.inputs import body_int, body_text

MAX_NAME = 200  # characters of a message name


@bp.post("/messages")
@token_required()
def post_message():
    """Deliver `{name, ticket_id?, correlation_keys?, payload}`.

    404 when nothing the caller may act on waits for it, 409 listing the tickets when several
    match, 422 when a correlation property cannot be read from the payload.
    """
    body = json_body()
    ticket_id = body_int(body, "ticket_id")  # none: find the ticket by correlation keys
    name, payload = body_text(body, "name", MAX_NAME), body.get("payload", {})
    if not name:
        raise InvalidData({"name": "a message name is required"})
    correlation_keys = body.get("correlation_keys")
    scopes = getattr(g, "api_token_scopes", frozenset())
    if ticket_id is not None:
        if not may_deliver_message(g.api_user, scopes, ticket_id, name):
            return json_error(404, f"ticket {ticket_id} is not waiting for a message '{name}'")
        element = deliver_message(
            ticket_id, name, payload, actor=g.api_user.username, correlation_keys=correlation_keys
        )
        return jsonify({"delivered": True, "ticket_id": ticket_id, "element_id": element})
    tickets = message_ticket_condition(g.api_user, scopes, name)
    if tickets is None:
        return json_error(404, f"nothing waits for a message '{name}'")
    try:
        delivery = deliver_correlated_message(
            name, payload, correlation_keys, actor=g.api_user.username, tickets=tickets
        )
    except AmbiguousMessage as exc:
        return json_error(exc.status, exc.message, matches=exc.matches)
    return jsonify({"delivered": True, **delivery})
