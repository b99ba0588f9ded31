"""The onboarding's handlers: the customer's tracking link, their engagement, and the verdict on it.

Every e-mail of the onboarding carries the ticket's tracking link (`engagement.tracking_link`):
an itsdangerous signature of the ticket id with the app's secret, so a link cannot be made up for
another ticket. Opening it (the portal's `/portal/e/<token>`, `read_tracking_token`) and visiting
the portal deliver the message `engagement` to the onboarding; its event subprocess records it
on the customer (`customer.record_engagement`). When the period is over,
`customer.classify_engagement` stores the verdict on the customer's profile, where agents see it
and assignment and priority rules read it (`engagement`).
"""

from flask import current_app
from itsdangerous import BadPayload, URLSafeSerializer

from app.clock import utcnow
from app.handlers.common import text, ticket_of
from app.handlers.registry import HandlerContext, handler

TRACKING_SALT = "ticketflow-engagement"
ENGAGED, NOT_ENGAGED = "engaged", "not_engaged"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TRACKING_SALT)


def tracking_token(ticket_id: int) -> str:
    """The signed token of a ticket's tracking link (the same ticket always gets the same token)."""
    return _serializer().dumps({"t": ticket_id})


def read_tracking_token(token: str) -> int:
    """The ticket id a tracking token signs.

    Raises:
        itsdangerous.BadData: the token was tampered with or is not a tracking token.
    """
    data = _serializer().loads(token)
    if not (isinstance(data, dict) and isinstance(data.get("t"), int) and not isinstance(data["t"], bool)):
        raise BadPayload("the token does not name a ticket")
    return data["t"]


@handler("engagement.tracking_link", inline=True)
def make_tracking_link(params: dict, ctx: HandlerContext) -> dict:
    """The ticket's tracking link for the e-mails: {"url": absolute URL}."""
    ticket = ticket_of(ctx)
    base = current_app.config["BASE_URL"].rstrip("/")
    return {"url": f"{base}/portal/e/{tracking_token(ticket.id)}"}


@handler("customer.record_engagement", parameters=(("kind", "str", True),), inline=True)
def record_engagement(params: dict, ctx: HandlerContext) -> dict:
    """Note on the ticket's customer that they engaged now (`kind`: link_opened, portal_visit, ...)."""
    kind = text(params, "kind")[:64]
    customer = ticket_of(ctx).customer
    now = utcnow()
    if customer.last_engaged_at is None or customer.last_engaged_at < now:
        customer.last_engaged_at = now
    return {"kind": kind, "at": now.isoformat()}


@handler("customer.classify_engagement", inline=True)
def classify_engagement(params: dict, ctx: HandlerContext) -> dict:
    """Store on the customer whether they engaged since the ticket opened: {"engaged", "engagement", ...}."""
    ticket = ticket_of(ctx)
    customer = ticket.customer
    last = customer.last_engaged_at
    engaged = last is not None and last >= ticket.created_at
    customer.engagement = ENGAGED if engaged else NOT_ENGAGED
    return {
        "engaged": engaged,
        "engagement": customer.engagement,
        "last_engaged_at": last.isoformat() if last else None,
    }
