"""Editing the process data behind an incident: what the data is, the exact change, applying it.

A manager fixes the data a failed step read (a wrong order number, a missing field) and retries.
`incident_data` reads the data of the incident's task (the parked service task, the waiting
timer, the halted task), `data_changes` is the exact difference shown before confirming (keys
added, removed, changed with old and new), and `apply_data` writes it into that task inside the
retry's own command (`incidents.retry_incident`), recomputing a parked service task's
parameters, so the fix and the retry are one transaction. `fingerprint` names the data a preview
was computed on: a confirmation made on other data is refused instead of applied blindly.
"""

import hashlib
import json

from SpiffWorkflow.util.task import TaskState

from app.engine.diagrams.forms import ENGINE_NAMES, check_plain_data
from app.engine.errors import Conflict, InvalidData, NotFound
from app.engine.runtime.projections import all_tasks
from app.engine.runtime.steps import engine_step
from app.engine.runtime.store import Loaded, find_task, load
from app.engine.spiff.serializer import json_safe
from app.extensions import db
from app.models import Incident, Job

MAX_EDIT_BYTES = 64 * 1024  # the edited data, as JSON text
_OPEN = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


def fingerprint(data: dict) -> str:
    """A short digest of data as canonical JSON: what a preview was computed on."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def data_changes(old: dict, new: dict) -> dict:
    """The exact difference of two data objects by top-level key.

    Returns:
        {"added": {key: new}, "removed": {key: old}, "changed": {key: {"old", "new"}}}, keys sorted.
    """
    return {
        "added": {k: new[k] for k in sorted(new) if k not in old},
        "removed": {k: old[k] for k in sorted(old) if k not in new},
        "changed": {k: {"old": old[k], "new": new[k]} for k in sorted(new) if k in old and old[k] != new[k]},
    }


def changed_keys(changes: dict) -> list[str]:
    """Every key a change touches, sorted."""
    return sorted({*changes["added"], *changes["removed"], *changes["changed"]})


def incident_task(loaded: Loaded, incident: Incident):
    """The task whose data a retry of `incident` runs on, or None (an incident without one)."""
    if incident.job_id is not None:
        job = db.session.get(Job, incident.job_id)
        if job is not None:
            return find_task(loaded, job.task_id)
    if incident.timer_id is not None:
        return find_task(loaded, incident.timer_id)
    if incident.element_id:
        found = [
            t
            for t in all_tasks(loaded.wf)
            if t.state & _OPEN and getattr(t.task_spec, "bpmn_id", None) == incident.element_id
        ]
        if found:
            return found[-1]
    return None


def open_incident_row(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id) if 0 < incident_id < 2**63 else None
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    if incident.resolved_at is not None:
        raise Conflict(f"incident {incident_id} was already resolved")
    return incident


def incident_data(incident_id: int) -> dict:
    """The process data a retry of the incident would run on; reads only.

    Raises:
        NotFound: no such incident.
        Conflict: it was resolved, or it has no task whose data could be edited.
    """
    try:
        incident = open_incident_row(incident_id)
        loaded = load(incident.instance_id)
        task = incident_task(loaded, incident)
        if task is None:
            raise Conflict(f"incident {incident_id} has no waiting step whose data could be edited")
        return json_safe(task.data)
    finally:
        db.session.rollback()  # load() row-locks on PostgreSQL; nothing was changed


def check_edit(old: dict, new) -> dict:
    """The changes from `old` to the edited `new`, or InvalidData naming the field.

    The names the engine sets (ticket_id, customer ...) stay as they are.
    """
    check_plain_data(new, "data")
    if len(json.dumps(new, default=str)) > MAX_EDIT_BYTES:
        raise InvalidData({"data": f"is larger than {MAX_EDIT_BYTES // 1024} KiB"})
    changes = data_changes(old, new)
    for key in changed_keys(changes):
        if key in ENGINE_NAMES:
            raise InvalidData({f"data.{key}": f"'{key}' is set by the engine; it cannot be edited"})
        if not key.isidentifier():
            raise InvalidData({f"data.{key}": "a field name is a Python identifier (letters, digits, _)"})
    return changes


def apply_data(loaded: Loaded, incident: Incident, new: dict, seen: str | None) -> dict:
    """Inside a command: write the edited data into the incident's task; returns the changes.

    A parked service task's parameters are evaluated again from the new data and stored on its
    job, so the retried job runs with them.

    Args:
        seen: the fingerprint of the data the preview showed; None to skip that check.

    Raises:
        Conflict: no task to edit, or the data is no longer what the preview showed.
        InvalidData: the edit is not allowed (the message names the field).
        StepFailed: the service task's parameters do not evaluate on the new data.
    """
    task = incident_task(loaded, incident)
    if task is None:
        raise Conflict(f"incident {incident.id} has no waiting step whose data could be edited")
    old = json_safe(task.data)
    if seen is not None and seen != fingerprint(old):
        raise Conflict("the process data changed since the preview; look at the changes again")
    changes = check_edit(old, new)
    for key in changes["removed"]:
        task.data.pop(key, None)
    for key in (*changes["added"], *changes["changed"]):
        task.data[key] = new[key]
    job = db.session.get(Job, incident.job_id) if incident.job_id is not None else None
    if job is not None and hasattr(task.task_spec, "evaluate_params"):
        params = engine_step(
            loaded,
            lambda: {name: value["value"] for name, value in task.task_spec.evaluate_params(task).items()},
        )
        task.internal_data["job_params"] = params
        job.params = json_safe(params)
    return changes
