"""Tickets and their conversation."""

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.people import Customer
from app.models.types import JSONType, UTCDateTime

PRIORITIES = ("low", "normal", "high", "urgent")


class Ticket(db.Model):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(32), default="new")
    resolution: Mapped[str | None] = mapped_column(String(64))
    data = mapped_column(JSONType, default=dict)
    sla_due_at = mapped_column(UTCDateTime)
    # The SLA clock (app/sla): target and consumed time in business seconds, the running
    # stretch's start (None while paused or stopped); sla_met: None open, False breached, True met.
    sla_team_key: Mapped[str | None] = mapped_column(String(64))
    sla_target_seconds: Mapped[int | None] = mapped_column()
    sla_consumed_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    sla_running_since = mapped_column(UTCDateTime)
    sla_paused: Mapped[bool] = mapped_column(default=False, server_default=false())
    sla_met: Mapped[bool | None] = mapped_column()
    first_response_due_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    customer: Mapped[Customer] = relationship()

    __table_args__ = (
        Index("ix_ticket_customer_created", "customer_id", "created_at"),
        Index("ix_ticket_type_status", "type", "status"),
        Index("ix_ticket_sla_due_at", "sla_due_at"),  # the inbox's SLA filter
    )


class Comment(db.Model):
    """One message of the ticket conversation (customer, agent or system)."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    author_kind: Mapped[str] = mapped_column(String(16))  # customer | agent | system
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
