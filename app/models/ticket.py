"""Tickets and their conversation."""

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, false, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.clock import utcnow
from app.config import default_currency
from app.extensions import db
from app.models.people import Customer
from app.models.types import JSONType, UTCDateTime

PRIORITIES = ("low", "normal", "high", "urgent")


def priority_rank(priority: str | None) -> int:
    """Highest first: urgent 0, high 1, normal 2, low 3; anything else after them (the inbox's sort)."""
    return len(PRIORITIES) - 1 - PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


# The statuses in which a ticket is finished (app.sla.STOPPING; tests/test_dashboard_speed.py
# checks they agree): spelled out here for the partial index of unfinished tickets below.
FINISHED_STATUSES = ("cancelled", "closed", "denied", "no_response", "rejected", "resolved")


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
    # When the business time left reaches the at-risk window (app.sla); None while there is no due time.
    sla_at_risk_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When it reached a finished status (sla.STOPPING); None while open (set by sla.on_status).
    closed_at = mapped_column(UTCDateTime)
    # When the customer wrote outside a question and no agent has read it yet (the inbox's
    # "customer wrote" badge and view); None when nothing is unread.
    customer_unread_since = mapped_column(UTCDateTime)
    # The process definition (type and version) its instance runs: set when it starts, changed by
    # an instance migration; the list's version filter and `ticket_count` read it. A copy of
    # process_instance.definition_id (no foreign key of its own: the instance's holds).
    definition_id: Mapped[int | None] = mapped_column()
    # PRIORITIES.index(priority), -1 for another value: the list's priority sort (most urgent first
    # when descending) reads ix_ticket_priority_rank in order. Set with the priority (`_rank`).
    priority_rank: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    customer: Mapped[Customer] = relationship()

    @validates("priority")
    def _rank(self, _key, priority):
        self.priority_rank = PRIORITIES.index(priority) if priority in PRIORITIES else -1
        return priority

    @property
    def currency(self) -> str:
        """The ISO 4217 code of the ticket's amounts: its start data's `currency` (an order's),
        else its customer's."""
        code = self.data.get("currency") if isinstance(self.data, dict) else None
        if isinstance(code, str) and len(code) == 3 and code.isalpha():
            return code.upper()
        return self.customer.currency if self.customer is not None else default_currency()

    __table_args__ = (
        # A customer's tickets newest first; with the status last, a list filtered on customers (a
        # name prefix: thousands of them) counts its tickets per status from this index alone.
        Index("ix_ticket_customer_created", "customer_id", "created_at", "id", "status"),
        Index("ix_ticket_type_status", "type", "status"),
        Index("ix_ticket_sla_due_at", "sla_due_at"),  # the inbox's SLA filter
        # The dashboard's list (app/ticket_list): newest first, alone or after an equality filter;
        # with the status last, the counts per status read the same index and no row.
        Index("ix_ticket_created", "created_at", "id", "status"),
        Index("ix_ticket_type_created", "type", "created_at", "id", "status"),
        Index("ix_ticket_status_created", "status", "created_at", "id"),
        Index("ix_ticket_priority_created", "priority", "created_at", "id", "status"),
        Index("ix_ticket_team_created", "sla_team_key", "created_at", "id", "status"),
        # Closed in a range: the created_at bound the list adds and the status are in the index, so
        # the range's counts read no row.
        Index("ix_ticket_closed", "closed_at", "created_at", "id", "status"),
        Index("ix_ticket_definition_created", "definition_id", "created_at", "id", "status"),
        # The status by id: the counts per status of a list read from another table's ids (a
        # business field: thousands of matches) look up each match here, not its row (PostgreSQL's
        # index-only scan; SQLite reads the row by rowid either way).
        Index("ix_ticket_id_status", "id", "status"),
        Index("ix_ticket_customer_unread", "customer_unread_since", "id"),
    )


# The list's SLA filter "breached" (app/ticket_list): running past the due time, or a miss the
# clock recorded; partial indexes, so the stopped and the met tickets (most of them) are not in them.
_running = Ticket.sla_running_since.is_not(None)
_missed = Ticket.sla_met.is_(false())
Index("ix_ticket_sla_running_due", Ticket.sla_due_at, sqlite_where=_running, postgresql_where=_running)
Index("ix_ticket_sla_missed", Ticket.created_at, Ticket.id, sqlite_where=_missed, postgresql_where=_missed)

# Unfinished tickets (a few percent of them), newest first: the list's derived states (open,
# waiting on the customer, on a timer, incident) are read from here, and each row's waits tested
# by its ticket id, instead of from every message subscription or timer ever left waiting; with
# the SLA columns, the KPI backlog's breaches are counted from the index alone. The
# statuses are SQL literals (not parameters), so both planners see that a query's condition
# (`UNFINISHED`, the same expression) implies the index's.
UNFINISHED = Ticket.status.not_in([literal_column(f"'{s}'") for s in FINISHED_STATUSES])
Index(
    "ix_ticket_unfinished",
    Ticket.created_at,
    Ticket.id,
    Ticket.status,
    Ticket.sla_met,
    Ticket.sla_running_since,
    Ticket.sla_due_at,
    Ticket.type,  # the KPI backlog's breaches of a type, from the index alone
    sqlite_where=UNFINISHED,
    postgresql_where=UNFINISHED,
)
Index("ix_ticket_priority_rank", Ticket.priority_rank, Ticket.id)


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
