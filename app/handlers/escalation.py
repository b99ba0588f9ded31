"""Escalations a missed deadline triggers: a ticket's priority one step up, e-mails to a team's leads.

Both run inline, in the command of the timer that fires them, and are written once: when one
runs as a job instead (its inline run failed), a retried job finds its own rows by the
idempotency key (a `priority_change` row, outbox rows). The priority change is returned with a
`history` entry, which the engine records next to the timer that caused it.
"""

from app import sla
from app.clock import utcnow
from app.extensions import db
from app.handlers.common import text, ticket_of
from app.handlers.registry import HandlerContext, HandlerError, HandlerRefused, handler
from app.models import PRIORITIES, HumanTask, OutboxMessage, PriorityChange, Team, TeamMember, User

PRIORITY_RAISED = "priority_set"  # the kind the engine uses when a rule sets the priority


@handler("ticket.raise_priority", parameters=(("reason", "str", False),), inline=True)
def raise_priority(params: dict, ctx: HandlerContext) -> dict:
    """Raise the ticket's priority one step (urgent stays urgent); return what it did and why."""
    reason = text(params, "reason", required=False) or "a deadline was missed"
    done = db.session.execute(
        db.select(PriorityChange).where(PriorityChange.idempotency_key == ctx.idempotency_key)
    ).scalar()
    if done is not None:  # a retried job: the step was taken once already
        return _raised(done.priority, done.previous, done.reason)
    ticket = ticket_of(ctx)
    now = utcnow()
    previous = ticket.priority if ticket.priority in PRIORITIES else "normal"
    raised = PRIORITIES[min(PRIORITIES.index(previous) + 1, len(PRIORITIES) - 1)]
    if raised != ticket.priority:
        ticket.priority = raised
        ticket.updated_at = now
        sla.retarget(ticket, now)
    db.session.add(
        PriorityChange(
            ticket_id=ticket.id,
            previous=previous,
            priority=raised,
            reason=reason,
            idempotency_key=ctx.idempotency_key,
            created_at=now,
        )
    )
    db.session.flush()
    return _raised(raised, previous, reason)


def _raised(raised: str, previous: str, reason: str) -> dict:
    """The result of a priority raise, with the history entry the engine records for it."""
    changed = raised != previous
    message = (
        f"priority raised from {previous} to {raised}: {reason}"
        if changed
        else f"priority stays {raised}, the highest: {reason}"
    )
    return {
        "priority": raised,
        "previous": previous,
        "changed": changed,
        "history": {
            "kind": PRIORITY_RAISED,
            "actor": "escalation",
            "element_id": "priority",
            "data": {
                "priority": raised,
                "previous": previous,
                "changed": changed,
                "rule": reason,
                "message": message,
            },
        },
    }


@handler(
    "escalation.notify_team",
    parameters=(
        ("team", "str", True),
        ("subject", "str", True),
        ("body", "str", True),
        ("include_assignee", "bool", False),
    ),
    inline=True,
)
def notify_team(params: dict, ctx: HandlerContext) -> dict:
    """E-mail the leads of `team` (and, with `include_assignee`, whoever holds the ticket's task there).

    A team without leads has every member told instead; a team with nobody to tell is an error,
    so the escalation becomes an incident instead of going unheard.
    """
    team_key, subject, body = text(params, "team"), text(params, "subject"), text(params, "body")
    include_assignee = params.get("include_assignee", False)
    if not isinstance(include_assignee, bool):
        raise HandlerRefused(f"parameter 'include_assignee' must be true or false, got {include_assignee!r}")
    ticket = ticket_of(ctx)
    recipients = _recipients(team_key, ticket.id, include_assignee)
    now = utcnow()
    for user in recipients:
        key = f"{ctx.idempotency_key}:{user.id}"
        if db.session.execute(
            db.select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
        ).scalar():
            continue
        db.session.add(
            OutboxMessage(
                kind="email",
                ticket_id=ticket.id,
                recipient=user.email,
                subject=f"[Ticket #{ticket.id}] {subject}",
                body=body,
                payload={"team": team_key, "user_id": user.id, "escalation": True},
                idempotency_key=key,
                created_at=now,
            )
        )
    db.session.flush()
    return {"team": team_key, "notified": [user.username for user in recipients]}


def _recipients(team_key: str, ticket_id: int, include_assignee: bool) -> list[User]:
    team = db.session.execute(db.select(Team).where(Team.key == team_key)).scalar()
    if team is None:
        raise HandlerRefused(f"no team '{team_key}'")
    members = db.session.execute(
        db.select(User, TeamMember.is_lead)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id, User.active.is_(True), User.email.is_not(None))
        .order_by(User.id)
    ).all()
    chosen = [user for user, is_lead in members if is_lead] or [user for user, _ in members]
    if include_assignee:
        holders = (
            db.session.execute(
                db.select(User)
                .join(HumanTask, HumanTask.assignee_id == User.id)
                .where(HumanTask.ticket_id == ticket_id, HumanTask.team == team_key, User.email.is_not(None))
                .order_by(User.id)
            )
            .scalars()
            .all()
        )
        chosen += [user for user in holders if user not in chosen]
    if not chosen:
        raise HandlerError(f"team '{team_key}' has nobody with an e-mail address to notify")
    return chosen
