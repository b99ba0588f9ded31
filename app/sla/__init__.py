"""Service-level agreements: targets per ticket type and priority, counted in business time.

The engine calls `start_clock` when a ticket opens; the `ticket.set_status` handler calls
`on_status` so the clock pauses while the ticket waits on the customer and stops when it
closes; the API and the inbox read `sla_state`. The clock lives on the ticket row:

- `sla_target_seconds`: the resolution target in business seconds, fixed when the clock starts;
- `sla_consumed_seconds`: business time used by the stretches that already ended;
- `sla_running_since`: start of the running stretch (None while paused or stopped);
- `sla_due_at`: when the target runs out if nothing pauses it (None while paused);
- `sla_at_risk_at`: when the business time left falls to the at-risk window (a quarter of the
  target, at least an hour), set with `sla_due_at`: `sla_state` and the lists' SQL filters both
  read it, so a list filtered on "at risk" holds exactly the tickets whose badge says so;
- `sla_met`: None while open, False once breached (it stays so), True when closed in time.

docs/sla.md explains the rules; app/sla/calendar.py counts business time.
"""

from datetime import datetime

from app.models import Ticket
from app.sla.calendar import (
    Calendar,
    SlaConfigError,
    add_business_days,
    add_business_time,
    business_seconds_between,
)
from app.sla.store import (
    add_business_days_for_team,
    calendar_for,
    note_policies,
    policies_column,
    policy_for,
    set_calendar,
    set_policy,
)

# Waiting on the customer: the clock pauses.
PAUSING = frozenset({"awaiting_customer", "missing_data"})
# The ticket is finished (done in every list): the clock stops and the outcome (met or breached)
# is recorded. The engine sets `closed` or `cancelled` when a process ends without one of these.
STOPPING = frozenset({"closed", "resolved", "rejected", "denied", "no_response", "cancelled"})
# At risk when less than this share of the target, and always in the last business hour.
AT_RISK_SHARE = 0.25
AT_RISK_MIN_SECONDS = 3600

__all__ = [
    "AT_RISK_MIN_SECONDS",
    "AT_RISK_SHARE",
    "PAUSING",
    "STOPPING",
    "Calendar",
    "SlaConfigError",
    "add_business_days",
    "add_business_days_for_team",
    "add_business_time",
    "at_risk_window",
    "business_seconds_between",
    "calendar_for",
    "note_policies",
    "on_status",
    "policies_column",
    "policy_for",
    "retarget",
    "set_calendar",
    "set_policy",
    "sla_state",
    "start_clock",
]


def start_clock(ticket: Ticket, now: datetime) -> None:
    """Start the ticket's SLA clock (sets its due times); the caller's transaction commits.

    Args:
        ticket: a new ticket with its type and priority set.
        now: the opening instant (aware UTC).
    """
    targets = policy_for(ticket.type, ticket.priority)
    calendar = calendar_for(targets.team_key)
    ticket.sla_team_key = targets.team_key
    ticket.sla_target_seconds = targets.resolution_minutes * 60
    ticket.sla_consumed_seconds = 0
    ticket.sla_running_since = now
    ticket.sla_paused = False
    ticket.sla_met = None
    _set_due(ticket, calendar, now, ticket.sla_target_seconds)
    ticket.first_response_due_at = add_business_time(calendar, now, targets.first_response_minutes * 60)


def on_status(ticket: Ticket, status: str, now: datetime) -> None:
    """Pause the clock while waiting on the customer, resume after, stop when closed.

    Also records when the ticket closed (`closed_at`: the first finished status; cleared when
    it reopens), for every ticket. Idempotent: setting the same kind of status twice (a retried
    job) changes nothing. A ticket opened before SLAs existed has no clock and is left alone.
    """
    if status in STOPPING:
        ticket.closed_at = ticket.closed_at or now
    else:
        ticket.closed_at = None
    if ticket.sla_target_seconds is None:
        return
    running = ticket.sla_running_since is not None
    if status in STOPPING:
        if not running and not ticket.sla_paused:
            return  # already stopped
        if running:
            _end_stretch(ticket, now)
        ticket.sla_paused = False
        ticket.sla_met = (
            ticket.sla_met is not False and ticket.sla_consumed_seconds <= ticket.sla_target_seconds
        )
    elif status in PAUSING:
        if ticket.sla_paused:
            return
        if running:
            _end_stretch(ticket, now)
        ticket.sla_paused = True
        ticket.sla_due_at = ticket.sla_at_risk_at = None
    elif not running:  # resumed after a pause, or reopened after it stopped
        _start_stretch(ticket, now)


def retarget(ticket: Ticket, now: datetime) -> None:
    """Apply the policy of the ticket's current priority (after it was raised), keeping the time used."""
    if ticket.sla_target_seconds is None:
        return
    targets = policy_for(ticket.type, ticket.priority)
    if ticket.sla_running_since is not None:
        _end_stretch(ticket, now)
        ticket.sla_team_key = targets.team_key
        ticket.sla_target_seconds = targets.resolution_minutes * 60
        _start_stretch(ticket, now)
    elif ticket.sla_paused:
        ticket.sla_team_key = targets.team_key
        ticket.sla_target_seconds = targets.resolution_minutes * 60


def sla_state(ticket: Ticket, now: datetime) -> dict:
    """{'due_at': aware datetime | None, 'state': 'on_track' | 'at_risk' | 'breached' | 'paused' | 'met' | None}.

    Also 'first_response_due_at'. `state` is None for a ticket without a clock.
    """
    found = {"due_at": ticket.sla_due_at, "first_response_due_at": ticket.first_response_due_at}
    if ticket.sla_target_seconds is None:
        return {**found, "state": None}
    if ticket.sla_paused:
        return {**found, "due_at": None, "state": "paused"}
    if ticket.sla_running_since is None:
        return {**found, "state": "met" if ticket.sla_met else "breached"}
    if ticket.sla_met is False or ticket.sla_due_at is None or now > ticket.sla_due_at:
        return {**found, "state": "breached"}
    if ticket.sla_at_risk_at is not None:
        at_risk = now >= ticket.sla_at_risk_at
    else:  # a clock set by hand in the database: count the business time left
        left = business_seconds_between(calendar_for(ticket.sla_team_key), now, ticket.sla_due_at)
        at_risk = left <= at_risk_window(ticket.sla_target_seconds)
    return {**found, "state": "at_risk" if at_risk else "on_track"}


def at_risk_window(target_seconds: int) -> float:
    """Business seconds before the due time from which a running clock is at risk."""
    return max(AT_RISK_SHARE * target_seconds, AT_RISK_MIN_SECONDS)


def _set_due(ticket: Ticket, calendar: Calendar, now: datetime, left: float) -> None:
    """Due when `left` business seconds have passed after `now`; at risk from the moment the business
    time left equals the window (at once when it is that small already)."""
    ticket.sla_due_at = add_business_time(calendar, now, left)
    early = left - at_risk_window(ticket.sla_target_seconds)
    ticket.sla_at_risk_at = add_business_time(calendar, now, early) if early > 0 else now


def _end_stretch(ticket: Ticket, now: datetime) -> None:
    """Book the running stretch's business time; a stretch that ran past the due time breaches."""
    if ticket.sla_due_at is not None and now > ticket.sla_due_at:
        ticket.sla_met = False
    calendar = calendar_for(ticket.sla_team_key)
    ticket.sla_consumed_seconds += max(0, business_seconds_between(calendar, ticket.sla_running_since, now))
    ticket.sla_running_since = None


def _start_stretch(ticket: Ticket, now: datetime) -> None:
    """Run again from `now`: due when the business time left is used up (now, if none is left)."""
    if ticket.sla_met:
        ticket.sla_met = None  # reopened: undecided again
    ticket.sla_paused = False
    ticket.sla_running_since = now
    left = ticket.sla_target_seconds - ticket.sla_consumed_seconds
    if left <= 0:
        ticket.sla_met = False
        ticket.sla_due_at = ticket.sla_at_risk_at = now
    else:
        _set_due(ticket, calendar_for(ticket.sla_team_key), now, left)
