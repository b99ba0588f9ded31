"""A customer who writes outside a question: flag the ticket to its team, reopen it when it closed lately.

The shipped processes wait for the customer only at their questions (`customer_reply`). A message
written at any other time (mid-process, or on a closed ticket) must not go unnoticed:

- the ticket is marked unread (`ticket.customer_unread_since`: the inbox's "customer wrote" badge
  and the team's view of such tickets) until an agent reads it;
- its team gets a task "Read the customer's message" (one at a time per ticket);
- a ticket that closed at most N days ago (the type's process property `reopen.days`, else the
  config's REOPEN_DAYS; 0: never) is reopened as well: it goes back to `in_progress` (the
  dashboard counts a reopen) and completing the task closes it again with its earlier status.

The task is the engine's own, not a BPMN element: its name `READ_TASK` cannot be a BPMN id (no
colon is allowed in one), and `complete_task` hands it to `read_customer_messages`.
"""

import uuid
from datetime import timedelta

from flask import current_app

from app import sla
from app.clock import utcnow
from app.engine.commands.deploy import latest_definition
from app.engine.diagrams.xmlsafety import BPMN_NS, SPIFF_NS, UnsafeXml, parse_xml
from app.engine.runtime.history import history
from app.engine.runtime.ticket_copies import copies
from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessInstance, Ticket, User

READ_TASK = "ticketflow:read_customer_message"
READ_TITLE = "Read the customer's message"
REOPEN_PROPERTY = "reopen.days"
REOPENED_STATUS = "in_progress"
NEVER_REOPENED = frozenset({"cancelled"})
_REOPEN_DAYS: dict[tuple, int | None] = {}  # (definition id, checksum) -> its `reopen.days`


def flag_customer_message(ticket: Ticket, comment_id: int, actor: str | None) -> None:
    """Inside the command that stored the customer's message: flag, task, and reopen when due."""
    now = utcnow()
    instance_id = db.session.execute(
        db.select(ProcessInstance.id)
        .where(ProcessInstance.ticket_id == ticket.id)
        .order_by(ProcessInstance.id.desc())
        .limit(1)
    ).scalar()
    ticket.customer_unread_since = ticket.customer_unread_since or now
    if instance_id is None:
        return
    team = team_of(ticket)
    task = db.session.execute(
        db.select(HumanTask).where(HumanTask.ticket_id == ticket.id, HumanTask.name == READ_TASK).limit(1)
    ).scalar()
    reopen = _reopens(ticket, now)
    if task is None:
        task = HumanTask(
            id=str(uuid.uuid4()),
            instance_id=instance_id,
            ticket_id=ticket.id,
            name=READ_TASK,
            title=READ_TITLE,
            team=team,
            **copies(ticket),
            instructions=(
                "The customer wrote on this ticket without being asked"
                + (", after it had closed: it was reopened" if reopen else "")
                + ". Read their message in the conversation, answer them if needed, then complete this task"
                + (" (the ticket closes again)." if reopen else ".")
            ),
            created_at=now,
        )
        db.session.add(task)
        db.session.flush()
    data = {"comment_id": comment_id, "task_id": task.id, "task_title": READ_TITLE, "team": team}
    if reopen:
        previous = (ticket.status, ticket.resolution)
        ticket.status, ticket.resolution = REOPENED_STATUS, None
        ticket.updated_at = now
        sla.on_status(ticket, REOPENED_STATUS, now)
        data.update(status=REOPENED_STATUS, previous_status=previous[0], previous_resolution=previous[1])
    history(
        "ticket_reopened" if reopen else "customer_message_flagged",
        ticket_id=ticket.id,
        instance_id=instance_id,
        actor=actor,
        task_id=task.id,
        data=data,
        at=now,
    )


def read_customer_messages(ticket: Ticket, user: User | None) -> None:
    """Inside a command: the customer's messages are read; their tasks close, a reopened ticket closes again."""
    now = utcnow()
    actor = user.username if user else None
    tasks = db.session.execute(
        db.select(HumanTask).where(HumanTask.ticket_id == ticket.id, HumanTask.name == READ_TASK)
    ).scalars()
    reopened = None
    for task in tasks:
        history(
            "task_completed",
            ticket_id=ticket.id,
            instance_id=None,  # not an element of the diagram: the per-element figures leave it out
            actor=actor,
            element_id=task.name,
            element_name=task.title,
            task_id=task.id,
            data={},
            at=now,
        )
        reopened = reopened or _reopening(task.id)
        db.session.delete(task)
    ticket.customer_unread_since = None
    data: dict = {}
    if reopened and ticket.status == REOPENED_STATUS:
        status = reopened.get("previous_status") or "closed"
        ticket.status, ticket.resolution = status, reopened.get("previous_resolution")
        ticket.updated_at = now
        sla.on_status(ticket, status, now)
        data = {"closed_again": True, "status": status}
    history("customer_message_read", ticket_id=ticket.id, actor=actor, data=data, at=now)
    db.session.flush()


def _reopening(task_id: str) -> dict | None:
    """The data of the reopen that opened this task, if it was one."""
    data = db.session.execute(
        db.select(HistoryEvent.data)
        .where(HistoryEvent.task_id == task_id, HistoryEvent.kind == "ticket_reopened")
        .order_by(HistoryEvent.id.desc())
        .limit(1)
    ).scalar()
    return data if isinstance(data, dict) else None


def _reopens(ticket: Ticket, now) -> bool:
    if ticket.status not in sla.STOPPING or ticket.status in NEVER_REOPENED or ticket.closed_at is None:
        return False
    days = reopen_days(ticket.type)
    return days > 0 and now - ticket.closed_at <= timedelta(days=days)


def reopen_days(ticket_type: str) -> int:
    """For how many days after closing a customer's message reopens a ticket of this type."""
    definition = latest_definition(ticket_type, "bpmn")
    declared = None
    if definition is not None:
        known = (definition.id, definition.checksum)
        if known not in _REOPEN_DAYS:
            _REOPEN_DAYS[known] = _declared_days(definition.source, definition.key)
        declared = _REOPEN_DAYS[known]
    return declared if declared is not None else int(current_app.config.get("REOPEN_DAYS", 14))


def _declared_days(source: bytes, key: str) -> int | None:
    """The `reopen.days` property of the diagram's process `key` (a whole number of days), or None."""
    try:
        root = parse_xml(source).getroot()
    except UnsafeXml:
        return None
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") != key:
            continue
        for prop in process.findall(
            f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"
        ):
            if prop.get("name") == REOPEN_PROPERTY:
                value = (prop.get("value") or "").strip()
                return int(value) if value.isdigit() and int(value) <= 3660 else None
    return None


def team_of(ticket: Ticket) -> str | None:
    """The team that worked on the ticket last (its latest task's), else the team of its SLA."""
    for data in db.session.execute(
        db.select(HistoryEvent.data)
        .where(HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "task_assigned")
        .order_by(HistoryEvent.at.desc(), HistoryEvent.id.desc())
        .limit(20)
    ).scalars():
        if isinstance(data, dict) and data.get("team"):
            return data["team"]
    return ticket.sla_team_key
