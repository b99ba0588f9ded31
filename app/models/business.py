"""Business records written by handlers: the money ledger, the outbox, stock movements, priority changes."""

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import JSONType, UTCDateTime


class LedgerEntry(db.Model):
    """A refund, credit note or credit balance. The UNIQUE key makes every payment happen once."""

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # refund | credit_note | credit_balance
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    amount = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)


OUTBOX_STATES = ("pending", "sending", "sent", "failed")


class OutboxMessage(db.Model):
    """An e-mail or webhook to deliver after commit.

    The worker (app/mail/outbox.py) claims a `pending` row whose `next_attempt_at` has come (or
    never was set) as `sending` with a lease, sends it outside any transaction, then marks it
    `sent`, `pending` again with a later `next_attempt_at` (a temporary failure), or `failed`.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        db.Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        db.Index("ix_outbox_message_id", "message_id"),  # a reply's In-Reply-To finds its ticket
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="email")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload = mapped_column(JSONType)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    sent_at = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at = mapped_column(UTCDateTime)
    lease_until = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))


class StockMovement(db.Model):
    """Items put back into stock by a return; keyed like the ledger so a retry restocks once."""

    __tablename__ = "stock_movement"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)


class PriorityChange(db.Model):
    """A ticket's priority raised by an escalation; keyed like the ledger so a re-run raises it once."""

    __tablename__ = "priority_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    previous: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
