"""E-mails to agents, written to the outbox inside the command that caused them.

An agent who chose `mail_notifications` (their settings page, or an admin in the user form) is
e-mailed when a task is assigned to them (by the rules, a colleague's reassignment or a handover)
and when a customer writes on a ticket they work. Escalations reach team leads whatever they
chose (the `escalation.notify_team` handler). The mails are ticket mails: `[#123]` subject,
thread headers and templates `mail/agent.*` (app/mail/compose.py).
"""

from flask import current_app

from app.clock import utcnow
from app.extensions import db
from app.models import HistoryEvent, HumanTask, OutboxMessage, Ticket, User

EXCERPT = 600  # characters of the customer's message quoted in the agent's mail


def mail_task_assigned(task: HumanTask, user_id: int | None, actor: str | None = None) -> None:
    """Tell the task's new assignee by e-mail, if they want it (not when they took it themselves)."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if not _wants_mail(user) or (actor is not None and actor == user.username):
        return
    ticket = db.session.get(Ticket, task.ticket_id) if task.ticket_id else None
    about = f" on ticket #{ticket.id}, {ticket.subject}" if ticket else ""
    _queue(
        user,
        ticket.id if ticket else None,
        f"Task assigned to you: {task.title or task.name}",
        f'Hello {user.name},\n\nthe task "{task.title or task.name}"{about} is now yours'
        + (f" ({'assigned by ' + actor})" if actor else "")
        + f".\n\nOpen it: {_base()}/inbox/tasks/{task.id}",
        {"agent": "task_assigned", "user_id": user.id, "task_id": task.id},
    )


def mail_customer_wrote(ticket: Ticket, text: str, channel: str) -> None:
    """Tell the agents working the ticket that its customer wrote (`channel`: portal or e-mail)."""
    for user in _agents_of(ticket):
        if not _wants_mail(user):
            continue
        excerpt = text if len(text) <= EXCERPT else text[:EXCERPT].rstrip() + " …"
        _queue(
            user,
            ticket.id,
            f"The customer wrote: {ticket.subject}",
            f"Hello {user.name},\n\n{ticket.customer.name} wrote on ticket #{ticket.id} ({channel}):\n\n"
            f"{excerpt}\n\nRead the conversation: {_base()}/inbox/tickets/{ticket.id}",
            {"agent": "customer_wrote", "user_id": user.id},
        )


def _agents_of(ticket: Ticket) -> list[User]:
    """Who works the ticket: the assignees of its open tasks, else whoever completed its latest task."""
    ids = set(
        db.session.execute(
            db.select(HumanTask.assignee_id).where(
                HumanTask.ticket_id == ticket.id, HumanTask.assignee_id.is_not(None)
            )
        ).scalars()
    )
    if ids:
        return list(db.session.execute(db.select(User).where(User.id.in_(ids)).order_by(User.id)).scalars())
    username = db.session.execute(
        db.select(HistoryEvent.actor)
        .where(HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "task_completed")
        .order_by(HistoryEvent.id.desc())
        .limit(1)
    ).scalar()
    user = db.session.execute(db.select(User).where(User.username == username)).scalar() if username else None
    return [user] if user is not None and user.role != "customer" else []


def _wants_mail(user: User | None) -> bool:
    return bool(user is not None and user.active and user.email and user.mail_notifications)


def _base() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _queue(user: User, ticket_id: int | None, subject: str, body: str, payload: dict) -> None:
    db.session.add(
        OutboxMessage(
            kind="email",
            ticket_id=ticket_id,
            recipient=user.email,
            subject=subject,
            body=body,
            payload=payload,
            created_at=utcnow(),
        )
    )
