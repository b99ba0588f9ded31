"""Projections: the rows the engine derives from a workflow after every command, as a diff.

`snapshot(wf)` reads what is open in a workflow (user tasks, timers, parked service tasks,
message catches). The difference of two snapshots is written as inserts, updates and deletes,
so a command issues no SELECT for its projections: `close_user_tasks` and `open_user_tasks`
for `human_task` (the new rows are returned unsaved: `store.save` assigns them first), and
`apply_waits` for `timer`, `job` and `message_subscription`. Nothing here decides who works on
a task.
"""

import logging
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.util.task import TaskState

from app.engine.expressions import ExpressionLimitError, render_bounded
from app.engine.runtime.halts import Halt
from app.engine.runtime.ticket_copies import copies
from app.engine.spiff.catches import catches_of, trigger_catches
from app.engine.spiff.correlation import canonical, expected
from app.engine.spiff.parser import ParkedServiceTask
from app.engine.spiff.retry import RetryPolicy, policy_of
from app.engine.spiff.timers import timer_due
from app.extensions import db
from app.models import HumanTask, Job, MessageSubscription, Timer

FORM_PROPERTY = "formJsonSchemaFilename"
log = logging.getLogger(__name__)


@dataclass
class Snapshot:
    user_tasks: dict = field(default_factory=dict)  # task id -> dict
    timers: dict = field(default_factory=dict)  # task id -> (element id, due)
    jobs: dict = field(default_factory=dict)  # task id -> dict
    # task id -> (message name, element id, expected correlations, correlation_key)
    messages: dict = field(default_factory=dict)


@dataclass
class OpenedTask:
    """A user task that opened in this command: its unsaved row and what assignment reads."""

    row: HumanTask
    to_lead: bool  # assignToLead="true": an escalation for a team lead
    four_eyes_of: str | None  # fourEyesOf="decide_credit": whoever completed that task may not do this one
    owner: dict | None  # the potentialOwner / humanPerformer expression
    data: dict  # the task's data (an owner may be `${variable}`)
    halt: Halt | None = None  # its instructions overran their budget: an incident


def all_tasks(wf):
    """Every task of a workflow and of its subprocesses."""
    yield from wf.tasks.values()
    for sub in wf.subprocesses.values():
        yield from sub.tasks.values()


def snapshot(wf) -> Snapshot:
    """What is open in the workflow, keyed by SpiffWorkflow task id (as str)."""
    snap = Snapshot()
    for task in all_tasks(wf):
        state = task.state
        spec = task.task_spec
        if state == TaskState.READY and spec.manual:
            props = (spec.extensions or {}).get("properties", {}) if hasattr(spec, "extensions") else {}
            snap.user_tasks[str(task.id)] = {
                "name": spec.bpmn_id,
                "title": spec.bpmn_name or spec.bpmn_id,
                "team": spec.lane,
                "form_name": props.get(FORM_PROPERTY),
                "required_skill": props.get("requiredSkill"),
                "to_lead": str(props.get("assignToLead", "")).lower() == "true",
                "four_eyes_of": props.get("fourEyesOf") or None,
                "owner": (spec.extensions or {}).get("resourceOwner")
                if hasattr(spec, "extensions")
                else None,
                "instructions": (spec.extensions or {}).get("instructionsForEndUser")
                if hasattr(spec, "extensions")
                else None,
                "task": task,
            }
        elif state == TaskState.WAITING and isinstance(spec, CatchingEvent):
            # An event-based gateway waits for several: one timer and one message row at most.
            for definition, element in catches_of(task):
                if isinstance(definition, TimerEventDefinition):
                    due = timer_due(task)  # None: a cycle that ran all its repetitions
                    if due is not None:
                        snap.timers.setdefault(str(task.id), (element.bpmn_id, due))
                elif isinstance(definition, MessageEventDefinition) and str(task.id) not in snap.messages:
                    correlations = expected(task, definition)
                    snap.messages[str(task.id)] = (
                        definition.name,
                        element.bpmn_id,
                        correlations,
                        canonical(correlations),
                    )
        elif state == TaskState.STARTED and isinstance(spec, ParkedServiceTask):
            snap.jobs[str(task.id)] = {
                "element_id": spec.bpmn_id,
                "operator": spec.operation_name,
                "params": task.internal_data.get("job_params", {}),
                "retry": _retry_policy(spec),
            }
    for tid, definition, start in trigger_catches(wf):  # a message start: the keys the workflow holds
        correlations = expected(None, definition, workflow=wf)
        snap.messages.setdefault(tid, (definition.name, start.bpmn_id, correlations, canonical(correlations)))
    return snap


def close_user_tasks(before: Snapshot, after: Snapshot) -> None:
    """Delete the `human_task` rows of user tasks that are no longer open: the rows the command
    read (the task it completes) go with its next flush, any other in one DELETE."""
    session = db.session
    gone = []
    for tid in before.user_tasks:
        if tid in after.user_tasks:
            continue
        row = session.identity_map.get(session.identity_key(HumanTask, tid))
        if row is not None:  # no statement of its own, and no flush forced before it
            session.delete(row)
        else:
            gone.append(tid)
    if gone:
        session.execute(db.delete(HumanTask).where(HumanTask.id.in_(gone)))


def open_user_tasks(before: Snapshot, after: Snapshot, *, instance_id: int, ticket, now) -> list[OpenedTask]:
    """The `human_task` rows of user tasks that opened, not yet added to the session."""
    ticket_id = ticket.id if ticket is not None else None
    copied = copies(ticket)
    due_by_task = _due_by_task(after)
    opened = []
    for tid in after.user_tasks:
        if tid in before.user_tasks:
            continue
        info = dict(after.user_tasks[tid])
        task = info.pop("task")
        to_lead = info.pop("to_lead")
        four_eyes_of = info.pop("four_eyes_of")
        owner = info.pop("owner")
        info["instructions"], problem = render_instructions(info["instructions"], task.data)
        row = HumanTask(
            id=tid,
            instance_id=instance_id,
            ticket_id=ticket_id,
            due_at=due_by_task.get(info["name"]),
            created_at=now,
            **copied,
            **info,
        )
        halt = Halt(info["name"], f"{info['name']}: instructions: {problem}") if problem else None
        opened.append(OpenedTask(row, to_lead, four_eyes_of, owner, task.data, halt))
    return opened


def apply_waits(before: Snapshot, after: Snapshot, *, instance_id: int, ticket, now) -> None:
    """Write the difference of what the instance waits for: timers, jobs, message subscriptions."""
    session = db.session
    ticket_id = ticket.id if ticket is not None else None

    gone = [tid for tid in before.timers if tid not in after.timers]
    for tid in list(gone):  # rows the command has read (a firing timer's) go with its flush
        row = session.identity_map.get(session.identity_key(Timer, tid))
        if row is not None:
            session.delete(row)
            gone.remove(tid)
    if gone:
        session.execute(db.delete(Timer).where(Timer.id.in_(gone)))
    for tid, (element_id, due) in after.timers.items():
        if tid not in before.timers:
            session.add(Timer(id=tid, instance_id=instance_id, element_id=element_id, due_at=due))
        elif before.timers[tid][1] != due:
            session.execute(db.update(Timer).where(Timer.id == tid).values(due_at=due, lease_until=None))

    gone = [tid for tid in before.jobs if tid not in after.jobs]
    if gone:
        session.execute(db.delete(Job).where(Job.task_id.in_(gone), Job.instance_id == instance_id))
    for tid, info in after.jobs.items():
        if tid not in before.jobs:
            session.add(
                Job(
                    instance_id=instance_id,
                    ticket_id=ticket_id,
                    task_id=tid,
                    element_id=info["element_id"],
                    operator=info["operator"],
                    params=info["params"],
                    idempotency_key=f"{instance_id}:{tid}",
                    next_run_at=now,
                    created_at=now,
                    **info["retry"].columns(),
                )
            )

    gone = [tid for tid in before.messages if tid not in after.messages]
    if gone:
        session.execute(db.delete(MessageSubscription).where(MessageSubscription.id.in_(gone)))
    for tid, (name, element_id, correlations, key) in after.messages.items():
        if tid not in before.messages:
            session.add(
                MessageSubscription(
                    id=tid,
                    instance_id=instance_id,
                    ticket_id=ticket_id,
                    name=name,
                    element_id=element_id,
                    created_at=now,
                    correlations=correlations or None,
                    correlation_key=key,
                )
            )
        elif before.messages[tid][3] != key:  # another message set the keys it expects meanwhile
            session.execute(
                db.update(MessageSubscription)
                .where(MessageSubscription.id == tid)
                .values(correlations=correlations or None, correlation_key=key)
            )


def _retry_policy(spec) -> RetryPolicy:
    """The task's retry policy; the defaults for a diagram deployed before its attributes were
    checked (the deploy check refuses a policy that does not read)."""
    try:
        return policy_of(spec)
    except ValueError as exc:
        log.warning("service task %s: %s; using the default retry policy", spec.bpmn_id, exc)
        return RetryPolicy()


def render_instructions(template: str | None, data: dict) -> tuple[str | None, str | None]:
    """A task's instructions rendered with its data, within the template budget.

    Returns:
        (text, None), or (the template's own source, what overran) when rendering ran out of
        its budget: the caller opens an incident naming the task. A template that fails for
        another reason (a typo, a missing filter) also shows its source, with no incident.
    """
    if not template:
        return template, None
    try:
        return render_bounded(template, data, markdown_values=True), None
    except ExpressionLimitError as exc:
        log.warning("instructions stopped by their budget: %s", exc)
        return template, f"rendering stopped: {exc}"
    except Exception:  # noqa: BLE001 - a broken template must not stop the process
        log.info("instructions did not render; showing their source", exc_info=True)
        return template, None


def _due_by_task(snap: Snapshot) -> dict:
    """A user task's due time is the earliest timer waiting in the same process (its SLA)."""
    dues = [due for _, due in snap.timers.values() if due is not None]
    if not dues or not snap.user_tasks:
        return {}
    earliest = min(dues)
    return {info["name"]: earliest for info in snap.user_tasks.values()}
