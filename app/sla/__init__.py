"""Service-level agreements: targets per ticket type and priority, counted in business time.

The engine calls `start_clock` when a ticket opens; the `ticket.set_status` handler calls
`on_status` so the clock pauses while the ticket waits on the customer.
"""

from datetime import datetime

from app.models import Ticket


def start_clock(ticket: Ticket, now: datetime) -> None:
    """Start the ticket's SLA clock (sets its due time); the caller's transaction commits."""
    return None


def on_status(ticket: Ticket, status: str, now: datetime) -> None:
    """Pause the clock while waiting on the customer, resume after, stop when closed."""
    return None


def sla_state(ticket: Ticket, now: datetime) -> dict:
    """{'due_at': aware datetime | None, 'state': 'on_track' | 'at_risk' | 'breached' | 'paused' | 'met' | None}."""
    return {"due_at": ticket.sla_due_at, "state": None}
