"""The customer's engagement during their onboarding (processes/onboarding.bpmn): a tracked link of
an onboarding e-mail opened, or a visit to the portal, delivered as the message `engagement`.

The onboarding's event subprocess listens for it while the onboarding runs; once it is over (or
for a customer without one) nothing waits and the visit or the click records nothing.
"""

from datetime import timedelta

from flask import abort, current_app, redirect, request, url_for
from itsdangerous import BadData

from app.clock import utcnow
from app.engine import EngineError, deliver_message
from app.extensions import db
from app.handlers.engagement import read_tracking_token
from app.models import Customer, MessageSubscription, Ticket
from app.web.portal.blueprint import bp

ENGAGEMENT = "engagement"  # the message the onboarding listens for
MAX_CAMPAIGN = 64


def _deliver(ticket_id: int, payload: dict, actor: str) -> bool:
    try:
        deliver_message(ticket_id, ENGAGEMENT, payload, actor=actor)
    except EngineError:  # nothing listens any more (the onboarding is over): nothing to record
        return False
    return True


@bp.get("/e/<token>")
def tracking_link(token: str):
    """Record that the customer opened a link of an onboarding e-mail; go on to the portal."""
    try:
        ticket_id = read_tracking_token(token)
    except BadData:
        abort(404)
    campaign = request.args.get("c", "")[:MAX_CAMPAIGN]
    _deliver(ticket_id, {"kind": "link_opened", "campaign": campaign}, "tracking link")
    return redirect(url_for("portal.index"))


def record_portal_visit(customer: Customer) -> int:
    """Tell the customer's onboardings that they visited the portal (at most once per
    PORTAL_VISIT_GAP_MINUTES since the last engagement recorded); returns how many were told."""
    gap = timedelta(minutes=current_app.config["PORTAL_VISIT_GAP_MINUTES"])
    if customer.last_engaged_at is not None and customer.last_engaged_at > utcnow() - gap:
        return 0
    listening = db.session.execute(
        db.select(MessageSubscription.ticket_id)
        .join(Ticket, Ticket.id == MessageSubscription.ticket_id)
        .where(Ticket.customer_id == customer.id, MessageSubscription.name == ENGAGEMENT)
        .distinct()
    ).scalars()
    return sum(_deliver(ticket_id, {"kind": "portal_visit"}, "portal visit") for ticket_id in list(listening))
