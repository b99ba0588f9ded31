"""Webhooks: admins' subscriptions of URLs to events, and one delivery row per event and subscription.

A delivery is written in the transaction of the engine command the event happened in
(app/webhooks/enqueue.py) and sent by the worker afterwards (app/webhooks/delivery.py): claimed
`sending` with a lease, then `sent`, `pending` again with a later `next_attempt_at`, or `failed`.
"""

from sqlalchemy import ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import JSONType, UTCDateTime

# The events a subscription may name, in the order the admin page lists them.
WEBHOOK_EVENTS = (
    "ticket.opened",
    "ticket.status_changed",
    "task.assigned",
    "task.completed",
    "ticket.sla_breached",
    "feedback.received",
    "incident.opened",
)
DELIVERY_STATES = ("pending", "sending", "sent", "failed")
WEBHOOK_URL_MAX = 2000


class WebhookSubscription(db.Model):
    """A URL that receives the events it names, signed with its own secret."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(WEBHOOK_URL_MAX))
    description: Mapped[str | None] = mapped_column(String(200))
    events = mapped_column(JSONType, default=list)  # a list of WEBHOOK_EVENTS names
    secret: Mapped[str] = mapped_column(String(128))  # the HMAC key: shown once, when made or rotated
    # Indexed: the engine reads the active subscriptions in every command that has an event.
    active: Mapped[bool] = mapped_column(default=True, server_default=true(), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event to one subscription: its JSON body and how sending it went."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id"))
    event: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column()  # for the admin's link; not a key (no join)
    payload = mapped_column(JSONType)  # the body sent, as JSON: {event, occurred_at, data}
    # Written once per (subscription, key) where an event could be found twice (an SLA breach
    # found by the worker's sweep); None for events of engine commands.
    dedup_key: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at = mapped_column(UTCDateTime)
    lease_until = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column()  # the last answer's HTTP status
    response_ms: Mapped[int | None] = mapped_column()  # the last attempt's time, in milliseconds
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    delivered_at = mapped_column(UTCDateTime)

    __table_args__ = (
        # The worker's claim: due pending rows (and lapsed `sending` ones), oldest first.
        Index("ix_webhook_delivery_state_next_attempt_at", "state", "next_attempt_at"),
        # The admin's list per subscription, newest first, optionally by state; the counts per state.
        Index("ix_webhook_delivery_subscription_state_id", "subscription_id", "state", "id"),
        Index("ix_webhook_delivery_subscription_id", "subscription_id", "id"),
        Index("ux_webhook_delivery_dedup", "subscription_id", "dedup_key", unique=True),
    )
