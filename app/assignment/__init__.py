"""Who gets a user task and how urgent a ticket is: team strategies and fallback priority rules.

The engine asks the analysts' DMN rules first (app/engine/rules.py); `priority_for` is the
fallback when no priority decision is deployed or none of its rules matches.
"""

from app.assignment.strategies import (
    STRATEGIES,
    Choice,
    Member,
    Roster,
    choose_assignee,
    open_task_counts,
    remember_agent,
    roster,
    skills_of,
    ticket_agents_read,
    ticket_opened,
)

__all__ = [
    "STRATEGIES",
    "Choice",
    "Member",
    "Roster",
    "choose_assignee",
    "open_task_counts",
    "priority_for",
    "remember_agent",
    "roster",
    "skills_of",
    "ticket_agents_read",
    "ticket_opened",
]

SEVERITY_PRIORITY = {"low": "low", "medium": "normal", "high": "high", "critical": "urgent"}
TIER_BUMP = {"gold", "platinum"}


def priority_for(ticket_type: str, customer: dict, data: dict) -> str:
    """The priority of a new ticket from its type, the customer's profile and its content.

    A complaint's severity sets it; otherwise tickets are normal, high for gold and platinum
    customers.
    """
    severity = data.get("severity") if isinstance(data, dict) else None
    if severity in SEVERITY_PRIORITY:
        return SEVERITY_PRIORITY[severity]
    if customer.get("tier") in TIER_BUMP:
        return "high"
    return "normal"
