"""Loading an instance for a command and saving it: workflow, history, projections, assignment, status.

`load` restores the workflow onto the cached spec and takes the "before" snapshot of what is
open; `save` writes the history of the elements the command completed, compacts the task tree,
serializes it and writes only the difference of the projections. New user tasks are assigned
here (`rules.assignment`), in the same transaction.
"""

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, event
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.util import identity_key

from app import sla
from app.assignment import ticket_agents_read
from app.clock import utcnow
from app.engine.errors import NotFound
from app.engine.rules.assignment import assign_new_task, resolve_owner
from app.engine.rules.dmn import latest_decisions_column, note_latest_decisions
from app.engine.runtime import (
    instance_writes,  # noqa: F401 (its listener batches instance UPDATEs)
    projections,
)
from app.engine.runtime.compaction import compact
from app.engine.runtime.halts import Halt, open_halts
from app.engine.runtime.history import history, pending
from app.engine.runtime.inline import record_inline
from app.engine.spiff import specs
from app.engine.spiff.serializer import dump_workflow, load_workflow, reattach_triggered
from app.extensions import db
from app.models import HumanTask, ProcessDefinition, ProcessInstance, Ticket, TicketAgent, TicketStat
from app.stats.record import remember_process

_UNDER_WAY = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class Loaded:
    """An instance loaded for a command, with what was open before it."""

    row: ProcessInstance
    definition: ProcessDefinition
    ticket: Ticket | None
    wf: Any
    before: projections.Snapshot
    finished_before: set
    # When each task that was under way at load time entered its state (epoch seconds): what an
    # element that completes in this command spent there (history_event.seconds).
    entered: dict = field(default_factory=dict)
    halts: list[Halt] = field(default_factory=list)  # bounds reached in this command (incidents)
    # Service tasks whose handler ran inside this command (runtime/inline.py): their own history
    # row is `service_completed`, as for a job.
    inline_done: dict = field(default_factory=dict)  # task id -> (history entries, result)


def load(instance_id: int, found: tuple | None = None) -> Loaded:
    """Load an instance for a command (row-locked on PostgreSQL).

    `found`: the instance row and its definition when the command has already read them (and
    locked the row), as a batch of timers does (commands/timers.py).
    """
    if found is None:
        found = db.session.execute(_load_query(db.engine.dialect.name), {"id": instance_id}).first()
    if found is None:
        raise NotFound(f"process instance {instance_id} not found")
    row, definition = found
    remember_process(db.session, row.id, definition.key, definition.version)
    ticket = _ticket(row.ticket_id) if row.ticket_id else None
    spec, subprocess_specs = specs.for_instance(definition)
    wf = load_workflow(row.workflow, spec, subprocess_specs)
    if (definition.dependencies or {}).get("mutable_spec"):
        reattach_triggered(wf)
    finished, entered = set(), {}
    for task in projections.all_tasks(wf):
        if task.state & TaskState.FINISHED_MASK:
            finished.add(task.id)
        elif task.state & _UNDER_WAY:
            entered[task.id] = task.last_state_change
    return Loaded(row, definition, ticket, wf, projections.snapshot(wf), finished, entered)


@cache
def _load_query(dialect: str):
    """The instance with its definition (a version never changes: no need to lock it or read it
    apart), row-locked on PostgreSQL; built once."""
    query = (
        db.select(ProcessInstance, ProcessDefinition)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id == bindparam("id"))
    )
    return query.with_for_update(of=ProcessInstance) if dialect == "postgresql" else query


_READ_FOR_COMMAND = "ticketflow_task_read"  # session.info: (task id, read) for the next command


def task_with_instance(task_id: str) -> tuple[HumanTask, tuple] | None:
    """An open user task with its instance and definition, the instance row-locked on PostgreSQL,
    in one statement (a completion reads all three), which also carries the latest decisions;
    None when no such open task.

    The second item is what `load(..., found=...)` takes. Only the instance is locked, as `load`
    locks it: the task row may be older than the instance after a wait for that lock, and the
    workflow (read under the lock) is what says whether the task is still open.
    """
    read = db.session.info.pop(_READ_FOR_COMMAND, None)
    if read is not None and read[0] == task_id:  # read by the caller in this transaction
        return read[1]
    found = db.session.execute(_task_query(db.engine.dialect.name), {"id": task_id}).first()
    if found is None:
        return None
    note_latest_decisions(db.session, found[3])  # the rules that assign the tasks that open
    return found[0], (found[1], found[2])


def open_task_for_command(task_id: str) -> tuple[HumanTask, ProcessDefinition] | None:
    """An open task and its definition (for its form), read as `task_with_instance` reads it for a
    command on the task that follows in the same transaction: a form's submit parses its data
    with the form before it completes the task. That command takes this read instead of sending
    its own when the transaction goes on (PostgreSQL, nothing written since: the instance is
    still locked); any end of the transaction forgets it."""
    found = task_with_instance(task_id)
    if found is None:
        return None
    db.session.info[_READ_FOR_COMMAND] = (task_id, found)
    return found[0], found[1][1]


@event.listens_for(Session, "after_transaction_end")
def _forget_read(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_READ_FOR_COMMAND, None)


@cache
def _task_query(dialect: str):
    """Built once per dialect."""
    query = (
        db.select(HumanTask, ProcessInstance, ProcessDefinition, latest_decisions_column())
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(HumanTask.id == bindparam("id"))
    )
    return query.with_for_update(of=ProcessInstance) if dialect == "postgresql" else query


def _ticket(ticket_id: int) -> Ticket | None:
    """The instance's ticket with its customer (assignment rules and handlers read the profile),
    its agents (`ticket_agent`: who had its earlier task in each team, for assignment) and its
    dashboard row (`ticket_stat`, which `stats.record` changes with the command's history), read
    after the instance's lock; one statement, none when the command has the ticket already.

    A comment or a reassignment changes the stat without the instance's lock. On PostgreSQL the
    stat's counters are written as increments (`history.write`), so such a change made meanwhile
    is not overwritten from this read; SQLite runs one writer at a time.
    """
    known = db.session.identity_map.get(identity_key(Ticket, ticket_id))
    if known is not None:
        return known
    found = db.session.execute(_ticket_query(), {"id": ticket_id}).all()
    if not found:
        return None
    ticket_agents_read(ticket_id, [agent for _, agent, _ in found if agent is not None])
    return found[0][0]


@cache
def _ticket_query():
    """Built once: building it costs more than the lookup. The ticket's agents (a row per team
    it had a task in) and its stat join in, so that assignment and `stats.record` find them in the
    session."""
    return (
        db.select(Ticket, TicketAgent, TicketStat)
        .outerjoin(TicketAgent, TicketAgent.ticket_id == Ticket.id)
        .outerjoin(TicketStat, TicketStat.ticket_id == Ticket.id)
        .options(joinedload(Ticket.customer))
        .where(Ticket.id == bindparam("id"))
    )


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


def save(loaded: Loaded, actor: str | None, *, skip_task: str | None = None) -> list[str]:
    """Write the workflow, projections, history and status; returns new user-task ids."""
    wf, row = loaded.wf, loaded.row
    now = utcnow()
    ticket_id = loaded.ticket.id if loaded.ticket else None
    inline_done = loaded.inline_done
    for task in projections.all_tasks(wf):
        spec = task.task_spec
        if inline_done and task.state == TaskState.COMPLETED and str(task.id) in inline_done:
            record_inline(loaded, task, now)
        elif (
            task.state == TaskState.COMPLETED
            and task.id not in loaded.finished_before
            and getattr(spec, "bpmn_id", None)
            and str(task.id) != skip_task
        ):
            history(
                "element_completed",
                ticket_id=ticket_id,
                instance_id=row.id,
                actor=actor,
                element_id=spec.bpmn_id,
                element_name=spec.bpmn_name,
                task_id=str(task.id),
                at=now,
                seconds=_seconds_spent(loaded, task, now),
            )
        elif task.state == TaskState.COMPLETED and skip_task is not None and str(task.id) == skip_task:
            _time_the_completion(skip_task, _seconds_spent(loaded, task, now))
    compact(wf)
    after = projections.snapshot(wf)
    _record_cancelled_tasks(loaded, after, skip_task, actor, now)
    # Serialized before the new tasks are assigned: assignment's reads flush the session, and a
    # new instance (start_process) is then written once, with its workflow.
    row.workflow = dump_workflow(wf)
    row.updated_at = now
    new_tasks = _write_projections(loaded, after, actor, now)
    open_halts(row, ticket_id, loaded.halts)
    loaded.halts = []
    loaded.inline_done = {}
    if wf.is_completed() and row.status in ("running", "incident"):
        row.status = "completed" if wf.success else "cancelled"
        row.ended_at = now
        history("instance_" + row.status, ticket_id=ticket_id, instance_id=row.id, actor=actor, at=now)
        close_ticket(loaded.ticket, row, actor, now)
    loaded.before = after
    return new_tasks


_OWN_ROWS = ("task_completed", "service_completed", "timer_fired", "message_delivered")


def _time_the_completion(task_id: str, seconds: int) -> None:
    """Give the command's own row for the task it completed (a user task, a job, a timer, a message) its seconds."""
    for row in reversed(pending()):
        if row["task_id"] == task_id and row["kind"] in _OWN_ROWS:
            row["seconds"] = seconds
            return


def _seconds_spent(loaded: Loaded, task, now) -> int:
    """Whole seconds a task completing now spent since it entered its state (0 if it entered now)."""
    entered = loaded.entered.get(task.id)
    return max(0, int(now.timestamp() - entered)) if isinstance(entered, (int, float)) else 0


def _write_projections(loaded: Loaded, after: projections.Snapshot, actor: str | None, now) -> list[str]:
    """Write the projection diff; every user task that opened is assigned before it is stored.

    The order is that of the rows: closed tasks go first, so an agent's load counts them no
    more, and each new task is stored before the next one is assigned.
    """
    before, row, ticket = loaded.before, loaded.row, loaded.ticket
    projections.close_user_tasks(before, after)
    opened = projections.open_user_tasks(before, after, instance_id=row.id, ticket=ticket, now=now)
    for task in opened:
        if task.halt is not None:
            loaded.halts.append(task.halt)
        assign_new_task(
            task.row,
            ticket,
            actor,
            to_lead=task.to_lead,
            owner=resolve_owner(task.owner, task.data),
            four_eyes_of=task.four_eyes_of,
        )
        db.session.add(task.row)
    projections.apply_waits(before, after, instance_id=row.id, ticket=ticket, now=now)
    return [task.row.id for task in opened]


# What a command did, as its history rows say, in the words of a cancelled task's reason.
_CAUSES = {
    "timer_fired": ("escalated", "the timer"),
    "message_delivered": ("cancelled", "the message caught at"),
    "task_completed": ("cancelled", "completing"),
    "service_completed": ("cancelled", "the service task"),
}


def _record_cancelled_tasks(
    loaded: Loaded, after: projections.Snapshot, skip_task: str | None, actor: str | None, now
) -> None:
    """A `task_cancelled` history row for every open user task that went away without completion.

    The reason names what this command did (the timer that fired, the message that arrived,
    the task completed) so a late attempt to complete the task can say why it is closed.
    """
    gone = [
        (tid, info)
        for tid, info in loaded.before.user_tasks.items()
        if tid not in after.user_tasks and tid != skip_task and info["task"].state != TaskState.COMPLETED
    ]
    if not gone:
        return
    verb, by, cause = "cancelled", None, {}
    if loaded.wf.is_completed() and not loaded.wf.success:
        by = f"cancelling the process{f' ({actor})' if actor else ''}"
    else:
        for earlier in reversed(pending()):
            if earlier["kind"] in _CAUSES and not (earlier["data"] or {}).get("inline"):
                verb, words = _CAUSES[earlier["kind"]]
                element = earlier["element_name"] or earlier["element_id"]
                by = f"{words} '{element}' ({earlier['element_id']})" if element else words
                cause = {
                    "by_kind": earlier["kind"],
                    "by_element_id": earlier["element_id"],
                    "by_element_name": earlier["element_name"],
                }
                break
    when = now.strftime("%Y-%m-%d %H:%M UTC")
    reason = f"{verb} at {when}" + (f" by {by}" if by else "")
    ticket_id = loaded.ticket.id if loaded.ticket else None
    for tid, info in gone:
        history(
            "task_cancelled",
            ticket_id=ticket_id,
            instance_id=loaded.row.id,
            actor=actor,
            element_id=info["name"],
            element_name=info["title"],
            task_id=tid,
            at=now,
            data={"reason": reason, **cause},
        )


def close_ticket(ticket: Ticket | None, row: ProcessInstance, actor: str | None, now) -> None:
    """A ticket whose process ended without a final status gets `closed` (`cancelled` if it was cancelled).

    A final status the process set itself (sla.STOPPING: closed, resolved, no_response ...) stays.
    """
    if ticket is None or ticket.status in sla.STOPPING:
        return
    status = "closed" if row.status == "completed" else "cancelled"
    previous, ticket.status, ticket.updated_at = ticket.status, status, now
    sla.on_status(ticket, status, now)
    history(
        "ticket_closed",
        ticket_id=ticket.id,
        instance_id=row.id,
        actor=actor,
        at=now,
        data={
            "status": status,
            "previous": previous,
            "rule": "the process ended without setting a final status",
        },
    )


def restore_round_trip(instance_id: int) -> tuple[str, str, str]:
    """SpiffWorkflow's save-restore check on a stored instance; reads only.

    Returns:
        (the stored workflow, it restored through the engine's load path and serialized again,
        that restored and serialized once more). Equal texts mean nothing is lost in storage.
    """
    try:
        loaded = load(instance_id)
        again = dump_workflow(loaded.wf)
        twice = dump_workflow(load_workflow(again, loaded.wf.spec, loaded.wf.subprocess_specs))
        return loaded.row.workflow, again, twice
    finally:
        db.session.rollback()  # load() row-locks on PostgreSQL; nothing was changed
