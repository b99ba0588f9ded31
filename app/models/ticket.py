"""Tickets and their conversation."""

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.config import default_currency
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
    # When it reached a finished status (sla.STOPPING); None while open (set by sla.on_status).
    closed_at = mapped_column(UTCDateTime)
    # When the customer wrote outside a question and no agent has read it yet (the inbox's
    # "customer wrote" badge and view); None when nothing is unread.
    customer_unread_since = mapped_column(UTCDateTime)
    customer: Mapped[Customer] = relationship()

    @property
    def currency(self) -> str:
        """The ISO 4217 code of the ticket's amounts: its start data's `currency` (an order's),
        else its customer's."""
        code = self.data.get("currency") if isinstance(self.data, dict) else None
        if isinstance(code, str) and len(code) == 3 and code.isalpha():
            return code.upper()
        return self.customer.currency if self.customer is not None else default_currency()

    __table_args__ = (
        Index("ix_ticket_customer_created", "customer_id", "created_at"),
        Index("ix_ticket_type_status", "type", "status"),
        Index("ix_ticket_sla_due_at", "sla_due_at"),  # the inbox's SLA filter
        # The dashboard's list (app/ticket_list): newest first, alone or after an equality filter;
        # with the status last, the counts per status read the same index and no row.
        Index("ix_ticket_created", "created_at", "id", "status"),
        Index("ix_ticket_type_created", "type", "created_at", "id", "status"),
        Index("ix_ticket_status_created", "status", "created_at", "id"),
        Index("ix_ticket_priority_created", "priority", "created_at", "id", "status"),
        Index("ix_ticket_team_created", "sla_team_key", "created_at", "id", "status"),
        Index("ix_ticket_closed", "closed_at", "id", "status"),
        Index("ix_ticket_customer_unread", "customer_unread_since", "id"),
    )


# The list's SLA filter "breached" (app/ticket_list): running past the due time, or a miss the
# clock recorded; partial indexes, so the stopped and the met tickets (most of them) are not in them.
_running = Ticket.sla_running_since.is_not(None)
_missed = Ticket.sla_met.is_(false())
Index("ix_ticket_sla_running_due", Ticket.sla_due_at, sqlite_where=_running, postgresql_where=_running)
Index("ix_ticket_sla_missed", Ticket.created_at, Ticket.id, sqlite_where=_missed, postgresql_where=_missed)


# Start-form values are stored normalised (`field_value`) and at most this long.
FIELD_VALUE_MAX = 200
FIELD_NAME_MAX = 64


def field_value(value) -> str | None:
    """A start-form value as `ticket_field` stores and compares it: trimmed, lower case, at most
    FIELD_VALUE_MAX characters; numbers and booleans as JSON writes them; None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str) and value.strip():
        return value.strip().lower()[:FIELD_VALUE_MAX]
    return None


class TicketField(db.Model):
    """One scalar field of a ticket's start data, normalised (`field_value`): the projection the
    dashboard filters business fields on and staff search finds order numbers in.

    Written by the engine in the start command's transaction (one executemany), never changed.
    """

    __tablename__ = "ticket_field"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(FIELD_NAME_MAX), primary_key=True)
    value: Mapped[str] = mapped_column(String(FIELD_VALUE_MAX))

    __table_args__ = (Index("ix_ticket_field_name_value", "name", "value", "ticket_id"),)


class Comment(db.Model):
    """One message of the ticket conversation (customer, agent or system)."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    author_kind: Mapped[str] = mapped_column(String(16))  # customer | agent | system
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
