"""Service tasks run inside the command: handlers whose whole effect stays in our database.

A handler registered with `inline=True` (app/handlers/registry.py: a ticket's status, history,
outbox rows the worker sends later, reads) needs no job of its own: the command that reaches its
task runs it, writes the result into the task and goes on, so a new ticket reaches its first
assigned task in one transaction. Exactly once holds because the handler's rows commit or roll
back with the command.

A handler that fails inline raises `InlineFailed`: `run_command` rolls the whole command back and
runs it again with that element's handler off (`INLINE_OFF`), so its task stays parked, `save`
turns it into a job as before, and the worker runs it with its retry policy (an incident when it
refuses). That costs a second run of a command only when a handler fails; a savepoint around
every handler would cost every command two statements and two flushes per service task. Tasks
that were jobs before the command (a retried incident, a job left by an earlier failure) are
never taken over here.
"""

import json
import logging

from SpiffWorkflow.util.task import TaskState

from app.engine.errors import StepFailed
from app.engine.runtime.history import history, pending
from app.engine.runtime.projections import all_tasks
from app.engine.spiff.parser import ParkedServiceTask
from app.extensions import db
from app.handlers import HANDLERS, INLINE, HandlerContext

log = logging.getLogger(__name__)
INLINE_OFF = "ticketflow_inline_off"  # session.info: element ids whose handler runs as a job in this command
# session.info: element ids and operator names a process test gives results for (app/engine/testing):
# they stay jobs, so the test's driver answers them instead of their handler.
INLINE_MOCKED = "ticketflow_inline_mocked"
HANDLER_HISTORY = "history"  # result key: {kind, data, actor?, element_id?} or a list of them


class InlineFailed(Exception):
    """An inline handler failed: its command is run again with the element's handler as a job."""

    def __init__(self, element_id: str):
        super().__init__(f"the inline handler of {element_id} failed")
        self.element_id = element_id


def next_inline_task(loaded):
    """The first parked service task of this command whose handler runs inline, or None."""
    jobs_before = loaded.before.jobs
    off = db.session.info.get(INLINE_OFF) or ()
    mocked = db.session.info.get(INLINE_MOCKED) or ()
    for task in all_tasks(loaded.wf):
        spec = task.task_spec
        if (
            task.state == TaskState.STARTED
            and isinstance(spec, ParkedServiceTask)
            and spec.operation_name in INLINE
            and spec.bpmn_id not in off
            and not (mocked and (spec.bpmn_id in mocked or spec.operation_name in mocked))
            and str(task.id) not in jobs_before
        ):
            return task
    return None


def run_inline(loaded, task) -> None:
    """Run the handler of `task` and write its result into the task (the caller completes it).

    Raises:
        InlineFailed: the handler raised, or returned a malformed history entry.
    """
    tid, spec, row = str(task.id), task.task_spec, loaded.row
    ticket_id = loaded.ticket.id if loaded.ticket is not None else None
    completed_now = {
        r["element_id"]: r["actor"]
        for r in pending()
        if r["kind"] == "task_completed" and r["instance_id"] == row.id and r["actor"]
    }
    ctx = HandlerContext(ticket_id, row.id, f"{row.id}:{tid}", 1, spec.bpmn_id, completed_now)
    params = dict(task.internal_data.get("job_params", {}))
    try:
        result = json.loads(json.dumps(HANDLERS[spec.operation_name](params, ctx)))
        entries, data = split_history(result, spec.bpmn_id, spec.operation_name)
    except Exception as exc:  # the command runs again with this element as a job, by its policy
        log.info("inline %s at %s failed, left to the worker as a job: %s", spec.operation_name, tid, exc)
        raise InlineFailed(spec.bpmn_id) from exc
    task.data[spec.result_variable] = data
    loaded.inline_done[tid] = (entries, data)


def record_inline(loaded, task, at) -> None:
    """The history of a service task run inline, at its place among the command's rows (`save`
    walks the completed tasks in order): the handler's own entries, then `service_completed`,
    as the worker records a job's."""
    tid, spec, row = str(task.id), task.task_spec, loaded.row
    entries, data = loaded.inline_done[tid]
    ticket_id = loaded.ticket.id if loaded.ticket is not None else None
    for entry in entries:
        history(
            entry["kind"],
            ticket_id=ticket_id,
            instance_id=row.id,
            actor=entry.get("actor") or "worker",
            element_id=entry.get("element_id") or spec.bpmn_id,
            task_id=tid,
            data=entry.get("data"),
            at=at,
        )
    history(
        "service_completed",
        ticket_id=ticket_id,
        instance_id=row.id,
        actor="worker",
        element_id=spec.bpmn_id,
        element_name=spec.bpmn_name,
        task_id=tid,
        data={"operator": spec.operation_name, "result": data, "inline": True},
        at=at,
    )


def split_history(result, element_id: str, operator: str) -> tuple[list[dict], dict]:
    """Split a handler's result into the history entries it asks for and the data for the process.

    Raises:
        StepFailed: an entry is not {kind, data, actor, element_id}.
    """
    if not isinstance(result, dict) or HANDLER_HISTORY not in result:
        return [], result
    data = {key: value for key, value in result.items() if key != HANDLER_HISTORY}
    entries = result[HANDLER_HISTORY]
    entries = entries if isinstance(entries, list) else [entries]
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("kind"), str)
            and 0 < len(entry["kind"]) <= 32
            and set(entry) <= {"kind", "data", "actor", "element_id"}
            and all(isinstance(entry.get(k), str | None) for k in ("actor", "element_id"))
        ):
            raise StepFailed(
                element_id,
                f"handler {operator} returned a malformed history entry: "
                f"{entry!r:.200}; expected {{kind, data, actor, element_id}}",
            )
    return entries, data
