"""The command runner: one transaction per command, optimistic retries, load and save.

Every state change goes through `run_command`. A command loads its instance, acts through
SpiffWorkflow, and `save` writes the workflow (without its spec), the projections, the
history and the instance status in the same transaction; `run_command` commits.
"""

import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from flask import current_app
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app import sla
from app.clock import utcnow
from app.engine import projections, specs
from app.engine.compaction import compact
from app.engine.errors import Conflict, NotFound, StepFailed
from app.engine.expressions import ExpressionError
from app.engine.spiff import dump_workflow, load_workflow, reattach_triggered
from app.extensions import db
from app.models import HistoryEvent, ProcessDefinition, ProcessInstance, Ticket

log = logging.getLogger(__name__)
T = TypeVar("T")
_immediate: ContextVar[bool] = ContextVar("ticketflow_immediate", default=False)
_HISTORY = "ticketflow_history"  # session.info key: the command's pending history rows


def init_sqlite(engine) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for commands (SQLite only)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def run_command(body: Callable[[], T], retries: int | None = None) -> T:
    """Run `body` in one write transaction and commit; retry on a lost optimistic race.

    Args:
        retries: attempts before giving up (config COMMAND_RETRIES when None).

    Raises:
        EngineError: whatever the command raises on purpose; nothing is committed then.
        Conflict: every attempt lost a race with another command (409); nothing was saved.
    """
    session = db.session()
    if _HISTORY in session.info:  # called from inside a command: join its transaction
        return body()
    if session.in_transaction():
        session.commit()  # end a read transaction the caller left open
    if retries is None:
        retries = current_app.config.get("COMMAND_RETRIES", 5)
    for attempt in range(retries):
        token = _immediate.set(True)
        session.info[_HISTORY] = []
        try:
            result = body()
            _write_history(session)
            session.commit()
            return result
        except (StaleDataError, OperationalError) as exc:
            session.rollback()
            if isinstance(exc, OperationalError) and not _retryable(exc):
                raise
            log.info("command retried after conflict (%s), attempt %s", type(exc).__name__, attempt + 1)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.info.pop(_HISTORY, None)
            _immediate.reset(token)
    raise Conflict(f"the ticket was changed by other commands at the same time, {retries} times in a row; "
                   "nothing was saved, try again")


def _write_history(session) -> None:
    """All history rows of the command in one multi-row INSERT, just before the commit."""
    rows = session.info.get(_HISTORY)
    if rows:
        session.execute(insert(HistoryEvent.__table__), rows)  # Core executemany: no ORM bulk overhead
        rows.clear()


def _retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(s in text for s in ("locked", "deadlock", "could not serialize", "busy"))


@dataclass
class Loaded:
    """An instance loaded for a command, with what was open before it."""

    row: ProcessInstance
    definition: ProcessDefinition
    ticket: Ticket | None
    wf: Any
    before: projections.Snapshot
    finished_before: set


def load(instance_id: int) -> Loaded:
    """Load an instance for a command (row-locked on PostgreSQL)."""
    query = db.select(ProcessInstance).where(ProcessInstance.id == instance_id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update()
    row = db.session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"process instance {instance_id} not found")
    definition = db.session.get(ProcessDefinition, row.definition_id)
    # The customer comes along: assignment rules and handlers read the profile.
    ticket = (db.session.get(Ticket, row.ticket_id, options=[joinedload(Ticket.customer)])
              if row.ticket_id else None)
    spec, subprocess_specs = specs.for_instance(definition)
    wf = load_workflow(row.workflow, spec, subprocess_specs)
    if (definition.dependencies or {}).get("mutable_spec"):
        reattach_triggered(wf)
    finished = {t.id for t in _all_tasks(wf) if t.state & TaskState.FINISHED_MASK}
    return Loaded(row, definition, ticket, wf, projections.snapshot(wf), finished)


def _all_tasks(wf):
    yield from wf.tasks.values()
    for sub in wf.subprocesses.values():
        yield from sub.tasks.values()


def find_task(loaded: Loaded, task_id: str):
    """The SpiffWorkflow task with this id, in the top workflow or a subprocess, or None."""
    try:
        uuid = UUID(task_id)
    except ValueError:
        return None
    task = loaded.wf.tasks.get(uuid)
    if task is None:
        for sub in loaded.wf.subprocesses.values():
            task = sub.tasks.get(uuid)
            if task is not None:
                break
    return task


def engine_step(loaded: Loaded, action: Callable[[], Any]) -> Any:
    """Run SpiffWorkflow code; turn its failures into StepFailed naming the element.

    A condition or script that reads a name the process data does not have (NameError,
    KeyError) is named too: StepFailed.missing.
    """
    try:
        return action()
    except (SpiffWorkflowException, ExpressionError) as exc:
        task = getattr(exc, "task", None)
        element_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        message = getattr(exc, "message", None) or str(exc)
        missing = _missing_name(exc, message)
        if missing is not None:
            message = f"needs '{missing}', which the process data does not have ({message.strip()})"
        raise StepFailed(element_id, f"{element_id or 'process'}: {message}", missing=missing) from exc
    except (NameError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError, LookupError) as exc:
        # A few library paths evaluate diagram content without wrapping its errors (e.g. a
        # processVariableCorrelation expression): still the diagram's or the data's fault.
        log.info("engine step failed outside SpiffWorkflow's error handling", exc_info=True)
        task = _failing_task(exc)
        element_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        missing = exc.name if isinstance(exc, NameError) and getattr(exc, "name", None) else None
        missing = missing or _missing_collection(task)
        detail = (f"needs '{missing}', which the process data does not have" if missing
                  else f"{type(exc).__name__}: {exc}")
        raise StepFailed(element_id, f"{element_id or 'process'}: {detail}", missing=missing) from exc


def _failing_task(exc: BaseException):
    """The SpiffWorkflow task whose code raised (the innermost frame holding `my_task`)."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("my_task")
        if getattr(getattr(candidate, "task_spec", None), "bpmn_id", None):
            found = candidate
        tb = tb.tb_next
    return found


def _missing_collection(task) -> str | None:
    """The collection a multi-instance task iterates, when the data does not have it."""
    data_input = getattr(getattr(task, "task_spec", None), "data_input", None)
    name = getattr(data_input, "bpmn_id", None) or getattr(data_input, "name", None)
    return name if name and name not in (task.data or {}) else None


_NAME_ERROR = re.compile(r"name '([^']+)' is not defined")
_KEY_ERROR = re.compile(r"KeyError:\s*'?([^'\s]+)'?")


def _missing_name(exc: Exception, message: str) -> str | None:
    """The variable or key a failed expression looked for, when that is why it failed."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, NameError) and getattr(cause, "name", None):
        return cause.name
    if isinstance(cause, KeyError) and cause.args and isinstance(cause.args[0], str):
        return cause.args[0]
    kind = getattr(exc, "error_type", None)
    found = _NAME_ERROR.search(message) if kind in (None, "NameError") else None
    if found is None and kind == "KeyError":
        found = _KEY_ERROR.search(message)
    return found.group(1) if found else None


def history(kind: str, *, ticket_id=None, instance_id=None, actor=None, element_id=None,
            element_name=None, task_id=None, data=None, at=None) -> None:
    """Append one history row to the current command (written in one INSERT at its commit)."""
    rows = db.session.info.get(_HISTORY)
    if rows is None:
        raise RuntimeError("history() is only for use inside run_command")
    rows.append({"kind": kind, "ticket_id": ticket_id, "instance_id": instance_id, "actor": actor,
                 "element_id": element_id, "element_name": element_name, "task_id": task_id,
                 "data": data, "at": at or utcnow()})


def save(loaded: Loaded, actor: str | None, *, skip_task: str | None = None) -> list[str]:
    """Write the workflow, projections, history and status; returns new user-task ids."""
    wf, row = loaded.wf, loaded.row
    now = utcnow()
    ticket_id = loaded.ticket.id if loaded.ticket else None
    for task in _all_tasks(wf):
        spec = task.task_spec
        if (task.state == TaskState.COMPLETED and task.id not in loaded.finished_before
                and getattr(spec, "bpmn_id", None) and str(task.id) != skip_task):
            history("element_completed", ticket_id=ticket_id, instance_id=row.id, actor=actor,
                    element_id=spec.bpmn_id, element_name=spec.bpmn_name, task_id=str(task.id), at=now)
    compact(wf)
    after = projections.snapshot(wf)
    _record_cancelled_tasks(loaded, after, skip_task, actor, now)
    new_tasks = projections.apply(loaded.before, after, instance_id=row.id, ticket=loaded.ticket,
                                  now=now, actor=actor)
    row.workflow = dump_workflow(wf)
    row.updated_at = now
    if wf.is_completed() and row.status in ("running", "incident"):
        row.status = "completed" if wf.success else "cancelled"
        row.ended_at = now
        history("instance_" + row.status, ticket_id=ticket_id, instance_id=row.id, actor=actor, at=now)
        close_ticket(loaded.ticket, row, actor, now)
    loaded.before = after
    return new_tasks


# What a command did, as its history rows say, in the words of a cancelled task's reason.
_CAUSES = {
    "timer_fired": ("escalated", "the timer"),
    "message_delivered": ("cancelled", "the message caught at"),
    "task_completed": ("cancelled", "completing"),
    "service_completed": ("cancelled", "the service task"),
}


def _record_cancelled_tasks(loaded: Loaded, after: projections.Snapshot, skip_task: str | None,
                            actor: str | None, now) -> None:
    """A `task_cancelled` history row for every open user task that went away without completion.

    The reason names what this command did (the timer that fired, the message that arrived,
    the task completed) so a late attempt to complete the task can say why it is closed.
    """
    gone = [(tid, info) for tid, info in loaded.before.user_tasks.items()
            if tid not in after.user_tasks and tid != skip_task
            and info["task"].state != TaskState.COMPLETED]
    if not gone:
        return
    verb, by, cause = "cancelled", None, {}
    if loaded.wf.is_completed() and not loaded.wf.success:
        by = f"cancelling the process{f' ({actor})' if actor else ''}"
    else:
        for pending in reversed(db.session.info.get(_HISTORY) or []):
            if pending["kind"] in _CAUSES:
                verb, words = _CAUSES[pending["kind"]]
                element = pending["element_name"] or pending["element_id"]
                by = f"{words} '{element}' ({pending['element_id']})" if element else words
                cause = {"by_kind": pending["kind"], "by_element_id": pending["element_id"],
                         "by_element_name": pending["element_name"]}
                break
    when = now.strftime("%Y-%m-%d %H:%M UTC")
    reason = f"{verb} at {when}" + (f" by {by}" if by else "")
    ticket_id = loaded.ticket.id if loaded.ticket else None
    for tid, info in gone:
        history("task_cancelled", ticket_id=ticket_id, instance_id=loaded.row.id, actor=actor,
                element_id=info["name"], element_name=info["title"], task_id=tid, at=now,
                data={"reason": reason, **cause})


def close_ticket(ticket: Ticket | None, row: ProcessInstance, actor: str | None, now) -> None:
    """A ticket whose process ended without a final status gets `closed` (`cancelled` if it was cancelled).

    A final status the process set itself (sla.STOPPING: closed, resolved, no_response ...) stays.
    """
    if ticket is None or ticket.status in sla.STOPPING:
        return
    status = "closed" if row.status == "completed" else "cancelled"
    previous, ticket.status, ticket.updated_at = ticket.status, status, now
    sla.on_status(ticket, status, now)
    history("ticket_closed", ticket_id=ticket.id, instance_id=row.id, actor=actor, at=now,
            data={"status": status, "previous": previous,
                  "rule": "the process ended without setting a final status"})

