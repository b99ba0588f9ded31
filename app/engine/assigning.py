"""Who gets a new user task: rules pick the team and skill, the team's strategy the agent.

Called by the projections for every user task that opens, inside the command's transaction.
"""

from app.models import HumanTask, Ticket


def assign_new_task(row: HumanTask, ticket: Ticket | None, actor: str | None) -> None:
    """Set `row.team` (rules may override the lane) and `row.assignee_id` (team strategy).

    Records the assignment and the rule that made it in the ticket history.
    """
    return None
