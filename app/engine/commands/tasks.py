"""Commands on user tasks: claim_task, release_task, complete_task, reassign_task; task_data reads.

Whether the person may do it is the command checker's answer (`runtime/checks.py`, the app's
`app.access.POLICY`); a refusal is a `Conflict` (409) with the checker's reason.
"""

from collections.abc import Callable
from types import SimpleNamespace

from SpiffWorkflow.util.task import TaskState

from app.engine.commands.agent_mail import mail_task_assigned
from app.engine.commands.customer_messages import READ_TASK, read_customer_messages
from app.engine.diagrams.forms import validate
from app.engine.errors import Conflict, NotFound, TaskNotOpen
from app.engine.runtime.checks import check
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.engine.runtime.steps import run_engine
from app.engine.runtime.store import find_task, load, save, task_with_instance
from app.engine.spiff import specs
from app.engine.spiff.serializer import json_safe, load_workflow
from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance, Ticket, User

Visible = Callable[[HumanTask], bool]  # whether the caller may know of an open task


def _open_task(task_id: str, visible: Visible | None = None) -> HumanTask:
    """The open task; TaskNotOpen saying why when it closed (from its history), NotFound if unknown
    or if `visible` says the caller may not know of it."""
    row = db.session.get(HumanTask, task_id) if isinstance(task_id, str) else None
    if row is not None:
        if visible is not None and not visible(row):
            raise NotFound(f"task {task_id} not found")
        return row
    if not isinstance(task_id, str):
        raise NotFound(f"task {task_id!r} not found")
    ended = db.session.execute(
        db.select(
            HistoryEvent.kind,
            HistoryEvent.at,
            HistoryEvent.actor,
            HistoryEvent.element_name,
            HistoryEvent.data,
        )
        .where(
            HistoryEvent.task_id == task_id[:36], HistoryEvent.kind.in_(("task_completed", "task_cancelled"))
        )
        .order_by(HistoryEvent.id.desc())
        .limit(1)
    ).first()
    if ended is not None:
        kind, at, actor, title, data = ended
        name = f"task '{title}'" if title else f"task {task_id}"
        if kind == "task_cancelled":
            reason = (data or {}).get("reason") if isinstance(data, dict) else None
            raise TaskNotOpen(f"{name} is no longer open: {reason or 'it was cancelled'}")
        raise TaskNotOpen(
            f"{name} is no longer open: completed at {at:%Y-%m-%d %H:%M} UTC"
            + (f" by {actor}" if actor else "")
        )
    seen = db.session.execute(
        db.select(HistoryEvent.id).where(HistoryEvent.task_id == task_id[:36]).limit(1)
    ).scalar()
    if seen is not None:
        raise TaskNotOpen(f"task {task_id} is no longer open (it was completed or cancelled)")
    raise NotFound(f"task {task_id} not found")


def closed_reason(task_id: str) -> str | None:
    """Why a task is no longer open ("task 'Work' is no longer open: escalated at ..."); None if open
    or unknown. Reads only."""
    try:
        _open_task(task_id)
    except TaskNotOpen as exc:
        return exc.message
    except NotFound:
        return None
    return None


def _task_history(kind: str, row: HumanTask, actor: str | None, data: dict | None = None) -> None:
    """One history row about an open task (claimed, released, completed, reassigned)."""
    history(
        kind,
        ticket_id=row.ticket_id,
        instance_id=row.instance_id,
        actor=actor,
        element_id=row.name,
        element_name=row.title,
        task_id=row.id,
        data=data,
    )


def _four_eyes(row: HumanTask, user: User | None, doing: str = "work on") -> None:
    """A second approval is never done by the person whose figure it checks, whatever their role."""
    if user is not None and row.excluded_user_id is not None and row.excluded_user_id == user.id:
        raise Conflict(
            f"four eyes: {user.username} made the decision that task '{row.title}' checks and may not {doing} it"
        )


def claim_task(task_id: str, user: User, visible: Visible | None = None) -> HumanTask:
    """Assign an open task to `user`.

    Raises:
        TaskNotOpen: the task was completed meanwhile.
        NotFound: no such task, or one `visible` hides (see `complete_task`).
        Conflict: another agent holds it.
    """

    def body():
        row = _open_task(task_id, visible)
        _four_eyes(row, user, "claim")
        check("may_claim", Conflict, user, row)
        if row.assignee_id is None:
            updated = db.session.execute(
                db.update(HumanTask)
                .where(HumanTask.id == task_id, HumanTask.assignee_id.is_(None))
                .values(assignee_id=user.id)
            ).rowcount
            if updated != 1:
                raise Conflict(f"task {task_id} was claimed by someone else just now")
            _task_history("task_claimed", row, user.username)
        db.session.refresh(row)
        return row

    return run_command(body)


def release_task(task_id: str, user: User, visible: Visible | None = None) -> HumanTask:
    """Give a claimed task back to its team (NotFound for a task `visible` hides)."""

    def body():
        row = _open_task(task_id, visible)
        if row.assignee_id is None:
            return row
        check("may_release", Conflict, user, row)
        row.assignee_id = None
        _task_history("task_released", row, user.username)
        return row

    return run_command(body)


def complete_task(task_id: str, data: dict, user: User | None, visible: Visible | None = None) -> list[str]:
    """Complete an open user task with form data and run the process on.

    Args:
        task_id: the task (SpiffWorkflow task id).
        data: the form's fields, validated against its JSON Schema; for a task without a form,
            any JSON object that follows the formless rules (forms.check_formless_data), merged
            into the task data.
        user: who completes it.
        visible: the caller's rule of which open tasks it may know of (the API's scope): a task
            it hides is answered as unknown, in the command's own read of the task.

    Returns:
        The ids of the user tasks that opened as a result.

    Raises:
        TaskNotOpen: completed or cancelled meanwhile (409), saying when and by what.
        NotFound: no such task, or one `visible` hides.
        Conflict: claimed by another agent.
        InvalidData: data does not satisfy the form (422); nothing changes.
        StepFailed: a following engine step failed (422); nothing changes.
    """
    actor = user.username if user else None

    def body():
        # The task, its instance (locked) and definition in one read; the rest of `_open_task`
        # (why a task is not open, or not to be seen) only when that finds no open task.
        found = task_with_instance(task_id) if isinstance(task_id, str) else None
        if found is None:
            row, instance = _open_task(task_id, visible), None
        elif visible is not None and not visible(found[0]):
            raise NotFound(f"task {task_id} not found")
        else:
            row, instance = found
        _four_eyes(row, user, "complete")
        check("may_complete", Conflict, user, row)
        if row.name == READ_TASK:  # the engine's own task, not a BPMN element
            read_customer_messages(db.session.get(Ticket, row.ticket_id), user)
            return []
        loaded = load(row.instance_id, instance)
        form = (loaded.definition.forms or {}).get(row.form_name) if row.form_name else None
        validate(form, data)
        task = find_task(loaded, task_id)
        if task is None or task.state != TaskState.READY:
            raise TaskNotOpen(f"task {task_id} is no longer open")
        task.set_data(**data)
        _task_history("task_completed", row, actor, data=data)  # before the steps: inline handlers read it
        run_engine(loaded, task.run)
        return save(loaded, actor, skip_task=task_id)

    return run_command(body)


def reassign_task(task_id: str, user: User, assignee: User) -> HumanTask:
    """Hand an open task to a member of its team (the holder, a lead, a manager or an admin).

    Raises:
        TaskNotOpen: the task was completed meanwhile.
        Conflict: `user` may not reassign it, or `assignee` is not in the task's team.
    """

    def body():
        row = _open_task(task_id)
        check("may_reassign", Conflict, user, row, assignee)
        _four_eyes(row, assignee, "get")
        row.assignee_id = assignee.id
        _task_history("task_reassigned", row, user.username, data={"assignee": assignee.username})
        mail_task_assigned(row, assignee.id, user.username)
        return row

    return run_command(body)


def task_data(task_id: str) -> dict:
    """The process data an open user task sees, to pre-fill its form; reads, changes nothing.

    Raises:
        TaskNotOpen: the task was completed meanwhile.
        NotFound: no such task.
    """
    row = _open_task(task_id)
    instance = db.session.get(ProcessInstance, row.instance_id)
    definition = db.session.get(ProcessDefinition, instance.definition_id)
    spec, subprocess_specs = specs.spec_for(definition)
    wf = load_workflow(instance.workflow, spec, subprocess_specs)
    task = find_task(SimpleNamespace(wf=wf), task_id)
    return json_safe(dict(task.data)) if task is not None else {}
