"""Tables only: no commits and no SpiffWorkflow here. Importing this package registers them all."""

from app.models.business import LedgerEntry, OutboxMessage, StockMovement
from app.models.history import HistoryEvent
from app.models.people import ROLES, ApiToken, Customer, LoginAttempt, Team, TeamMember, User
from app.models.repository import ProcessDefinition
from app.models.runtime import (
    HumanTask,
    Incident,
    Job,
    MessageSubscription,
    ProcessInstance,
    Timer,
)
from app.models.ticket import PRIORITIES, Comment, Ticket

__all__ = [
    "ROLES", "PRIORITIES", "ApiToken", "Comment", "Customer", "HistoryEvent", "HumanTask",
    "Incident", "Job", "LedgerEntry", "LoginAttempt", "MessageSubscription", "OutboxMessage",
    "ProcessDefinition", "ProcessInstance", "StockMovement", "Team", "TeamMember", "Ticket",
    "Timer", "User",
]
