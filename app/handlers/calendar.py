"""Deadlines for timers: when N business days of a team have passed, or a ticket's first-response target.

Diagrams cannot count business time themselves: a service task before a waiting point asks one
of these handlers for an instant and keeps it in a result variable; a `timeDate` timer then waits
for it (`reply_deadline["at"]`). Results are aware ISO-8601 UTC strings, which SpiffWorkflow reads
without guessing a time zone.
"""

from datetime import UTC, datetime

from app import sla
from app.clock import utcnow
from app.handlers.common import ticket_of
from app.handlers.registry import HandlerContext, HandlerRefused, handler

MAX_DAYS = 366


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@handler("calendar.due", parameters=(("days", "int", True), ("team", "str", False)), inline=True)
def business_days_due(params: dict, ctx: HandlerContext) -> dict:
    """The instant `days` business days of team `team` from now: {"at": ISO-8601 UTC}."""
    days = params.get("days")
    if isinstance(days, float) and days.is_integer():
        days = int(days)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise HandlerRefused(
            f"parameter 'days' must be a whole number of business days from 0 to {MAX_DAYS}, got {days!r}"
        )
    team = params.get("team")
    if team is not None and (not isinstance(team, str) or not team.strip()):
        raise HandlerRefused(f"parameter 'team' must be a team key, got {team!r}")
    return {"at": _iso(sla.add_business_days_for_team(team, utcnow(), days))}


@handler("calendar.first_response_due", inline=True)
def first_response_due(params: dict, ctx: HandlerContext) -> dict:
    """When the ticket's first response is due by its SLA (fixed when it opened): {"at": ISO-8601 UTC}."""
    ticket = ticket_of(ctx)
    due = ticket.first_response_due_at
    if due is None:  # opened before SLAs existed: count the target from the opening on the policy's calendar
        targets = sla.policy_for(ticket.type, ticket.priority)
        due = sla.add_business_time(
            sla.calendar_for(targets.team_key), ticket.created_at, targets.first_response_minutes * 60
        )
    return {"at": _iso(due)}
