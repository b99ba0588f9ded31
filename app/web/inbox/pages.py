"""What the task and ticket pages show: the ticket, its customer, conversation, timeline and files."""

from dataclasses import dataclass
from datetime import datetime

from app import sla
from app.extensions import db
from app.models import (
    Attachment,
    Comment,
    Customer,
    HistoryEvent,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    Team,
    TeamMember,
    Ticket,
    User,
)

TIMELINE_LIMIT = 200


@dataclass
class TicketContext:
    ticket: Ticket
    customer: Customer
    sla: dict
    comments: list
    author_names: dict
    events: list
    attachments: list
    open_tasks: list


def ticket_context(ticket: Ticket, now: datetime) -> TicketContext:
    """Everything the partials need about a ticket, in a handful of indexed queries."""
    comments = list(
        db.session.execute(
            db.select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.created_at, Comment.id)
        ).scalars()
    )
    author_ids = {c.author_id for c in comments if c.author_id}
    names = (
        dict(db.session.execute(db.select(User.id, User.name).where(User.id.in_(author_ids))).all())
        if author_ids
        else {}
    )
    events = list(
        db.session.execute(
            db.select(HistoryEvent)
            .where(HistoryEvent.ticket_id == ticket.id)
            .order_by(HistoryEvent.at.desc(), HistoryEvent.id.desc())
            .limit(TIMELINE_LIMIT)
        ).scalars()
    )
    events.reverse()
    attachments = list(
        db.session.execute(
            db.select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
        ).scalars()
    )
    open_tasks = list(
        db.session.execute(
            db.select(HumanTask).where(HumanTask.ticket_id == ticket.id).order_by(HumanTask.created_at)
        ).scalars()
    )
    return TicketContext(
        ticket=ticket,
        customer=ticket.customer,
        sla=sla_of(ticket, now),
        comments=comments,
        author_names=names,
        events=events,
        attachments=attachments,
        open_tasks=open_tasks,
    )


def sla_of(ticket: Ticket | None, now: datetime) -> dict:
    """The ticket's SLA due time and state; the state falls back to the due time when the clock has none."""
    if ticket is None:
        return {"due_at": None, "state": None}
    found = dict(sla.sla_state(ticket, now))
    if found.get("state") is None and ticket.sla_due_at is not None:
        found["state"] = "breached" if ticket.sla_due_at < now else "on_track"
    return found


def form_of(task: HumanTask) -> dict | None:
    """The task's JSON Schema form, frozen with the definition version its instance runs."""
    if not task.form_name:
        return None
    forms = db.session.execute(
        db.select(ProcessDefinition.forms)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.id == task.instance_id)
    ).scalar()
    return (forms or {}).get(task.form_name)


def teammates(task: HumanTask) -> list[User]:
    """Who the task may be handed to: active staff of its team but its holder (all staff for a task without team);
    the SQL form of the assignee rule of `app.access.may_reassign`."""
    query = db.select(User).where(User.active.is_(True), User.role != "customer")
    if task.assignee_id is not None:
        query = query.where(User.id != task.assignee_id)
    if task.excluded_user_id is not None:  # four eyes: never the person whose decision it checks
        query = query.where(User.id != task.excluded_user_id)
    if task.team is not None:
        query = (
            query.join(TeamMember, TeamMember.user_id == User.id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.key == task.team)
        )
    return list(db.session.execute(query.order_by(User.name).limit(200)).scalars())
