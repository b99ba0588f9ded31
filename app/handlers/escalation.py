"""Escalations a missed deadline triggers: a ticket's priority one step up, e-mails to a team's leads.

Both are written once per job (a retried job finds its own rows by the idempotency key), and the
priority change is written to the ticket history next to the timer that caused it.
"""

from app import sla
from app.clock import utcnow
from app.extensions import db
from app.handlers.common import text, ticket_of
from app.handlers.registry import HandlerContext, HandlerError, handler
from app.models import PRIORITIES, HistoryEvent, HumanTask, OutboxMessage, Team, TeamMember, User

PRIORITY_RAISED = "priority_set"  # the kind the engine uses when a rule sets the priority


def _task_of(ctx: HandlerContext) -> str:
    """The SpiffWorkflow task id of the job (its idempotency key is '<instance>:<task id>')."""
    return ctx.idempotency_key.split(":", 1)[-1]


@handler("ticket.raise_priority")
def raise_priority(params: dict, ctx: HandlerContext) -> dict:
    """Raise the ticket's priority one step (urgent stays urgent) and record why in its history."""
    reason = text(params, "reason", required=False) or "a deadline was missed"
    done = db.session.execute(db.select(HistoryEvent).where(
        HistoryEvent.task_id == _task_of(ctx), HistoryEvent.kind == PRIORITY_RAISED)).scalar()
    if done is not None:  # a retried job: the step was taken once already
        return {key: done.data[key] for key in ("priority", "previous", "changed")}
    ticket = ticket_of(ctx)
    now = utcnow()
    previous = ticket.priority if ticket.priority in PRIORITIES else "normal"
    raised = PRIORITIES[min(PRIORITIES.index(previous) + 1, len(PRIORITIES) - 1)]
    changed = raised != ticket.priority
    if changed:
        ticket.priority = raised
        ticket.updated_at = now
        sla.retarget(ticket, now)
        message = f"priority raised from {previous} to {raised}: {reason}"
    else:
        message = f"priority stays {raised}, the highest: {reason}"
    db.session.add(HistoryEvent(kind=PRIORITY_RAISED, ticket_id=ticket.id, instance_id=ctx.instance_id,
                                actor="escalation", element_id="priority", task_id=_task_of(ctx), at=now,
                                data={"priority": raised, "previous": previous, "changed": changed,
                                      "rule": reason, "message": message}))
    db.session.flush()
    return {"priority": raised, "previous": previous, "changed": changed}


@handler("escalation.notify_team")
def notify_team(params: dict, ctx: HandlerContext) -> dict:
    """E-mail the leads of `team` (and, with `include_assignee`, whoever holds the ticket's task there).

    A team without leads has every member told instead; a team with nobody to tell is an error,
    so the escalation becomes an incident instead of going unheard.
    """
    team_key, subject, body = text(params, "team"), text(params, "subject"), text(params, "body")
    include_assignee = params.get("include_assignee", False)
    if not isinstance(include_assignee, bool):
        raise HandlerError(f"parameter 'include_assignee' must be true or false, got {include_assignee!r}")
    ticket = ticket_of(ctx)
    recipients = _recipients(team_key, ticket.id, include_assignee)
    now = utcnow()
    for user in recipients:
        key = f"{ctx.idempotency_key}:{user.id}"
        if db.session.execute(db.select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)).scalar():
            continue
        db.session.add(OutboxMessage(kind="email", ticket_id=ticket.id, recipient=user.email,
                                     subject=f"[Ticket #{ticket.id}] {subject}", body=body,
                                     payload={"team": team_key, "user_id": user.id, "escalation": True},
                                     idempotency_key=key, created_at=now))
    db.session.flush()
    return {"team": team_key, "notified": [user.username for user in recipients]}


def _recipients(team_key: str, ticket_id: int, include_assignee: bool) -> list[User]:
    team = db.session.execute(db.select(Team).where(Team.key == team_key)).scalar()
    if team is None:
        raise HandlerError(f"no team '{team_key}'")
    members = db.session.execute(
        db.select(User, TeamMember.is_lead).join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id, User.active.is_(True), User.email.is_not(None))
        .order_by(User.id)).all()
    chosen = [user for user, is_lead in members if is_lead] or [user for user, _ in members]
    if include_assignee:
        holders = db.session.execute(
            db.select(User).join(HumanTask, HumanTask.assignee_id == User.id)
            .where(HumanTask.ticket_id == ticket_id, HumanTask.team == team_key, User.email.is_not(None))
            .order_by(User.id)).scalars().all()
        chosen += [user for user in holders if user not in chosen]
    if not chosen:
        raise HandlerError(f"team '{team_key}' has nobody with an e-mail address to notify")
    return chosen
