"""The one clock of Ticketflow: every timestamp is UTC and comes from here."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (tests move it with time-machine)."""
    return datetime.now(UTC)
