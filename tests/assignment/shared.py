"""Helpers for the assignment tests: open a ticket through the engine, read who got its task and
the history that says why, and a one-task process in a lane."""

from pathlib import Path

from app.engine import deploy, start_process
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Ticket, User
from app.worker import drain
from tests.diagrams import bpmn

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
GENERAL = {"question": "Where is my parcel?", "category": "delivery"}


def open_ticket(customer, ticket_type: str, data: dict) -> Ticket:
    ticket, _ = start_process(ticket_type, customer.id, "Help please", data, actor="test")
    drain()
    return db.session.get(Ticket, ticket.id)


def task_of(ticket: Ticket) -> HumanTask:
    db.session.expire_all()
    (task,) = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalars()
    return task


def assignee_of(ticket: Ticket) -> str | None:
    task = task_of(ticket)
    return db.session.get(User, task.assignee_id).username if task.assignee_id else None


def assignment_history(ticket: Ticket) -> list[dict]:
    return [
        event.data
        for event in db.session.execute(
            db.select(HistoryEvent)
            .where(HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "task_assigned")
            .order_by(HistoryEvent.id)
        ).scalars()
    ]


def deploy_rules() -> None:
    deploy((PROCESSES / "assignment.dmn").read_bytes(), actor="test")


def lane_process(task_extensions: str = "", lane: str = "experts") -> bytes:
    """start -> user task `do_it` in lane `lane` -> end."""
    return bpmn(
        f"""
  <bpmn:laneSet id="lanes"><bpmn:lane id="lane_1" name="{lane}">
    <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>do_it</bpmn:flowNodeRef>
    <bpmn:flowNodeRef>done</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="do_it" name="Do it">
    <bpmn:extensionElements>{task_extensions}</bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="do_it"/>
  <bpmn:sequenceFlow id="f2" sourceRef="do_it" targetRef="done"/>""",
        "laned",
    )


REQUIRES_SQL = (
    '<spiffworkflow:properties><spiffworkflow:property name="requiredSkill" value="sql"/>'
    "</spiffworkflow:properties>"
)
