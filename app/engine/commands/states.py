"""Where an instance stands on its diagram, per BPMN element; reads only.

`element_states` answers from the projections (open tasks, jobs, timers, subscriptions), the
open incidents and the history's counts of what completed or was cancelled, in six indexed
queries, without restoring the workflow. `process_data` restores it to read the data the
instance carries now. Both are what the dashboard's viewer and `GET
/api/v1/tickets/{id}/instance` show.
"""

from SpiffWorkflow.util.task import TaskState

from app.engine.runtime.projections import all_tasks
from app.engine.runtime.store import load
from app.engine.spiff.serializer import json_safe
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Incident, Job, MessageSubscription, ProcessDefinition, Timer

# The state an element shows when several apply (a task done twice and open again is active).
ELEMENT_STATES = ("incident", "active", "waiting", "completed", "cancelled")
# History rows that mean an element finished (each command writes one of them per element).
COMPLETED_KINDS = (
    "element_completed",
    "task_completed",
    "service_completed",
    "timer_fired",
    "message_delivered",
)
_OPEN = TaskState.READY | TaskState.STARTED | TaskState.WAITING


def _element(elements: dict, element_id: str) -> dict:
    return elements.setdefault(
        element_id,
        {
            "state": None,
            "completed": 0,
            "cancelled": 0,
            "active": 0,
            "due_at": [],
            "messages": [],
            "incidents": [],
        },
    )


def element_states(instance) -> dict:
    """Per element id of the instance's diagram: its state and what it counts.

    Args:
        instance: the `ProcessInstance` row.

    Returns:
        {"definition": {key, version, name}, "elements": {element id: {state, completed,
        cancelled, active, due_at: [ISO times], messages: [names], incidents: [{id, message}]}}};
        `state` is the first of ELEMENT_STATES that applies.
    """
    elements: dict[str, dict] = {}
    counted = db.session.execute(
        db.select(HistoryEvent.element_id, HistoryEvent.kind, db.func.count())
        .where(
            # by ticket first: history_event's index is (ticket_id, at)
            HistoryEvent.ticket_id == instance.ticket_id
            if instance.ticket_id is not None
            else HistoryEvent.ticket_id.is_(None),
            HistoryEvent.instance_id == instance.id,
            HistoryEvent.kind.in_((*COMPLETED_KINDS, "task_cancelled")),
            HistoryEvent.element_id.is_not(None),
        )
        .group_by(HistoryEvent.element_id, HistoryEvent.kind)
    ).all()
    for element_id, kind, count in counted:
        _element(elements, element_id)["cancelled" if kind == "task_cancelled" else "completed"] += count
    for (name,) in db.session.execute(db.select(HumanTask.name).where(HumanTask.instance_id == instance.id)):
        _element(elements, name)["active"] += 1
    jobs = db.session.execute(
        db.select(Job.element_id).where(Job.instance_id == instance.id, Job.status != "incident")
    ).all()
    for (element_id,) in jobs:
        _element(elements, element_id)["active"] += 1
    for element_id, due in db.session.execute(
        db.select(Timer.element_id, Timer.due_at).where(Timer.instance_id == instance.id)
    ):
        if due is not None:
            _element(elements, element_id)["due_at"].append(due.isoformat())
    for element_id, name in db.session.execute(
        db.select(MessageSubscription.element_id, MessageSubscription.name).where(
            MessageSubscription.instance_id == instance.id
        )
    ):
        _element(elements, element_id)["messages"].append(name)
    for incident_id, element_id, message in db.session.execute(
        db.select(Incident.id, Incident.element_id, Incident.message).where(
            Incident.instance_id == instance.id,
            Incident.resolved_at.is_(None),
            Incident.element_id.is_not(None),
        )
    ):
        _element(elements, element_id)["incidents"].append({"id": incident_id, "message": message})
    for info in elements.values():
        info["due_at"].sort()
        info["state"] = next(state for state in ELEMENT_STATES if _applies(state, info))
    definition = db.session.execute(
        db.select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name).where(
            ProcessDefinition.id == instance.definition_id
        )
    ).one()
    return {
        "definition": {"key": definition.key, "version": definition.version, "name": definition.name},
        "elements": dict(sorted(elements.items())),
    }


def _applies(state: str, info: dict) -> bool:
    return {
        "incident": bool(info["incidents"]),
        "active": info["active"] > 0,
        "waiting": bool(info["due_at"] or info["messages"]),
        "completed": info["completed"] > 0,
        "cancelled": True,
    }[state]


def diagram_xml(instance) -> str:
    """The BPMN XML of the version the instance runs."""
    source = db.session.execute(
        db.select(ProcessDefinition.source).where(ProcessDefinition.id == instance.definition_id)
    ).scalar_one()
    return source.decode()


def process_data(instance_id: int) -> dict:
    """The data the instance carries now: its open task's (the latest), else its final data.

    Reads only (the workflow is restored and nothing is saved).
    """
    try:
        loaded = load(instance_id)
        wf = loaded.wf
        open_tasks = [
            t for t in all_tasks(wf) if t.state & _OPEN and getattr(t.task_spec, "bpmn_id", None) is not None
        ]
        if open_tasks:
            latest = max(open_tasks, key=lambda t: t.last_state_change)
            return json_safe(latest.data)
        if wf.data:
            return json_safe(wf.data)
        finished = [t for t in all_tasks(wf) if t.state & TaskState.FINISHED_MASK]
        return json_safe(max(finished, key=lambda t: t.last_state_change).data) if finished else {}
    finally:
        db.session.rollback()
