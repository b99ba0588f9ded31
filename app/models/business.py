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


class OutboxMessage(db.Model):
    """An e-mail or webhook to deliver after commit."""

    __tablename__ = "outbox"

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
