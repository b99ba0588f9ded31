"""What the task and ticket pages show: the ticket, its customer, conversation, timeline and files."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam

from app import sla
from app.engine import open_task_for_command
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
    TicketStat,
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
    responded = db.session.execute(
        db.select(TicketStat.first_response_at).where(TicketStat.ticket_id == ticket.id)
    ).scalar()
    open_tasks = list(
        db.session.execute(
            db.select(HumanTask).where(HumanTask.ticket_id == ticket.id).order_by(HumanTask.created_at)
        ).scalars()
    )
    return TicketContext(
        ticket=ticket,
        customer=ticket.customer,
        sla=sla_of(ticket, now, responded),
        comments=comments,
        author_names=names,
        events=events,
        attachments=attachments,
        open_tasks=open_tasks,
    )


def sla_of(ticket: Ticket | None, now: datetime, first_response_at: datetime | None = None) -> dict:
    """The ticket's SLA: resolution due time and state (falling back to the due time when the clock has
    none), and `targets`, each target's own state: [{"name", "label", "state", "due_at"}]; `state` is the
    worst of them, so a breached first response makes the ticket's badge "breached"."""
    if ticket is None:
        return {"due_at": None, "state": None, "targets": []}
    found = dict(sla.sla_state(ticket, now))
    if found.get("state") is None and ticket.sla_due_at is not None:
        found["state"] = "breached" if ticket.sla_due_at < now else "on_track"
    targets = []
    response = first_response_state(ticket.first_response_due_at, first_response_at, now)
    if response:
        targets.append(
            {
                "name": "first_response",
                "label": "First response",
                "state": response,
                "due_at": ticket.first_response_due_at,
            }
        )
    if found.get("state"):
        targets.append(
            {"name": "resolution", "label": "Resolution", "state": found["state"], "due_at": found["due_at"]}
        )
    found["targets"] = targets
    if response == "breached" or (response == "at_risk" and found.get("state") == "on_track"):
        found["state"] = response
    return found


def first_response_state(due_at: datetime | None, responded_at: datetime | None, now: datetime) -> str | None:
    """met / breached once someone responded; breached / at_risk (last hour) / on_track while waiting."""
    if due_at is None:
        return None
    if responded_at is not None:
        return "met" if responded_at <= due_at else "breached"
    if now > due_at:
        return "breached"
    return "at_risk" if (due_at - now).total_seconds() < sla.AT_RISK_MIN_SECONDS else "on_track"


def task_with_form(task_id: str, to_complete: bool = False) -> tuple[HumanTask | None, dict | None]:
    """An open task and its JSON Schema form (frozen with the definition version its instance
    runs) in one statement: the task page and its submit read both. (None, None) when no such
    open task; the form is None for a task without one. `to_complete`: read as the completion
    that follows reads it (`open_task_for_command`), which then sends no read of its own."""
    if to_complete:
        found = open_task_for_command(task_id)
        forms = found[1].forms if found is not None else None
    else:
        found = db.session.execute(_task_with_forms_query(), {"id": task_id}).first()
        forms = found[1] if found is not None else None
    if found is None:
        return None, None
    task = found[0]
    return task, (forms or {}).get(task.form_name) if task.form_name else None


@cache
def _task_with_forms_query():
    """Built once (every task page and submit asks)."""
    return (
        db.select(HumanTask, ProcessDefinition.forms)
        .outerjoin(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .outerjoin(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(HumanTask.id == bindparam("id"))
    )


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
