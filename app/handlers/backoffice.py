"""Requests to the back-office systems (payment provider, warehouse), which answer with messages.

`backoffice.request` stands for the call to such a system: it makes no outside call, it returns
what was asked under a stable request id (the job's idempotency key, so a retried job asks once).
The system's answer arrives later as a message to `POST /api/v1/messages` (`payment_processed`,
`label_created`, `dispatched`, `delivered`), found by the order number it carries. A deployment
with a real provider registers its own handler for the operator.
"""

from app.clock import utcnow
from app.handlers.common import text, ticket_of
from app.handlers.registry import HandlerContext, handler


@handler(
    "backoffice.request",
    parameters=(("system", "str", True), ("action", "str", True), ("reference", "str", True)),
)
def request(params: dict, ctx: HandlerContext) -> dict:
    """Ask `system` to do `action` for `reference` (an order number): the request as the system got it."""
    system, action, reference = text(params, "system"), text(params, "action"), text(params, "reference")
    ticket_of(ctx)  # a request belongs to a ticket
    return {
        "system": system,
        "action": action,
        "reference": reference,
        "request_id": ctx.idempotency_key,
        "requested_at": utcnow().isoformat(),
    }
