"""Handlers on the ticket itself: its customer-visible status, and messages to the customer."""

from app import sla
from app.clock import utcnow
from app.customer_facing import without_doubled_greeting
from app.extensions import db
from app.handlers.common import text, ticket_of
from app.handlers.registry import HandlerContext, HandlerRefused, handler
from app.models import Comment, OutboxMessage

STATUSES = {
    "new",
    "in_progress",
    "awaiting_customer",
    "missing_data",
    "accepted",
    "rejected",
    "awaiting_return",
    "resolved",
    "closed",
    "denied",
    "approved",
    "escalated",
    "no_response",
    "awaiting_payment",
    "dispatched",
}


@handler("ticket.set_status", parameters=(("status", "str", True), ("resolution", "str", False)), inline=True)
def set_status(params: dict, ctx: HandlerContext) -> dict:
    """Set the ticket's status (and resolution, when given)."""
    status = text(params, "status")
    if status not in STATUSES:
        raise HandlerRefused(f"unknown status '{status}'; known: {', '.join(sorted(STATUSES))}")
    ticket = ticket_of(ctx)
    ticket.status = status
    resolution = text(params, "resolution", required=False)
    if resolution:
        ticket.resolution = resolution
    ticket.updated_at = utcnow()
    sla.on_status(ticket, status, ticket.updated_at)
    return {"status": status, "resolution": ticket.resolution}


@handler("notify.customer", parameters=(("subject", "str", True), ("body", "str", True)), inline=True)
def notify_customer(params: dict, ctx: HandlerContext) -> dict:
    """Queue an e-mail to the ticket's customer (outbox) and show it in the conversation."""
    subject, body = text(params, "subject"), without_doubled_greeting(text(params, "body"))
    existing = db.session.execute(
        db.select(OutboxMessage).where(OutboxMessage.idempotency_key == ctx.idempotency_key)
    ).scalar()
    if existing is None:
        ticket = ticket_of(ctx)
        now = utcnow()
        existing = OutboxMessage(
            kind="email",
            ticket_id=ticket.id,
            recipient=ticket.customer.email,
            subject=f"[Ticket #{ticket.id}] {subject}",
            body=body,
            idempotency_key=ctx.idempotency_key,
            created_at=now,
        )
        db.session.add(existing)
        db.session.add(Comment(ticket_id=ticket.id, author_kind="system", body=body, created_at=now))
        db.session.flush()
    return {"outbox_id": existing.id}
