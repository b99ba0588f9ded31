"""Moving running tickets to another version of their process: the dry run and `migrate_instance`.

Built on SpiffWorkflow's `bpmn.util.diff` (`diff_workflow`, `migrate_workflow`). A ticket moves
when every task that completed or started in it still exists unchanged in the target (its
wiring, `inputs`/`outputs`, may change: that is where the new version goes on); a waiting or
ready task moves to the element with the same id, or to the one the mapping names (old id → new
id). The library resets every waiting and ready task it moves (`reset_branch`: same task id,
internal data wiped), so the timers' due times and the tasks' data are put back afterwards.
"""

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from app.clock import utcnow
from app.engine.errors import Conflict, InvalidData, NotFound
from app.engine.runtime import projections
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.engine.runtime.store import load, save
from app.engine.spiff import specs
from app.engine.spiff.serializer import SERIALIZER, load_workflow
from app.extensions import db
from app.models import HistoryEvent, HumanTask, MessageSubscription, ProcessDefinition, ProcessInstance, Timer

MAX_MAPPING = 200
# Where an element leads, not what it does: a finished element whose successors changed still moves.
_WIRING = {"inputs", "outputs", "cond_task_specs", "default_task_spec"}
_MOVING = TaskState.READY | TaskState.WAITING
_DONE = TaskState.COMPLETED | TaskState.STARTED


def _definition(key: str, version: int, field: str) -> ProcessDefinition:
    row = db.session.execute(
        db.select(ProcessDefinition).where(
            ProcessDefinition.key == key,
            ProcessDefinition.version == version,
            ProcessDefinition.kind == "bpmn",
        )
    ).scalar()
    if row is None:
        raise NotFound(f"{field}: process '{key}' has no version {version}")
    return row


def check_mapping(mapping) -> dict[str, str]:
    """The mapping as {old element id: new element id}, or InvalidData naming the field."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or len(mapping) > MAX_MAPPING:
        message = f"an object of at most {MAX_MAPPING} old id → new id pairs"
        raise InvalidData({"mapping": message}, f"mapping: {message}")
    for old, new in mapping.items():
        if not isinstance(new, str) or not new or len(old) > 128 or len(new) > 128:
            message = "the new element id must be text of 1 to 128 characters"
            raise InvalidData({f"mapping.{old}": message}, f"mapping.{old}: {message}")
    return dict(mapping)


def _bpmn_id(spec) -> str | None:
    return getattr(spec, "bpmn_id", None)


def _plan(wf, target: ProcessDefinition, mapping: dict, history_ids: set[str]):
    """(diffs, problem): the diffs `migrate_workflow` needs, or the first reason the ticket cannot move.

    A problem is {element_id, state, reason}.
    """
    new_spec, new_subs = specs.for_instance(target)
    registry = SERIALIZER.registry
    top, sub_diffs = diff_workflow(registry, wf, new_spec, new_subs)
    for sp_id, sub_diff in sub_diffs.items():
        if sub_diff is None:
            name = wf.subprocesses[sp_id].spec.name
            return None, {
                "element_id": name,
                "state": "RUNNING",
                "reason": "subprocess removed in the target",
            }
    targets = {**{k: v for k, v in new_spec.task_specs.items()}}
    changed_by_spec = {}
    for diff in [top, *sub_diffs.values()]:
        for task in diff.changed:
            changed_by_spec[task.id] = task
    for diff in [top, *sub_diffs.values()]:
        removed = {t.id for t in diff.removed}
        for task, new in list(diff.alignment.items()) + [(t, None) for t in diff.removed]:
            old_id = _bpmn_id(task.task_spec)
            if old_id is None:
                continue
            state = TaskState.get_name(task.state)
            if task.state & _DONE:
                if task.id in removed:
                    return None, {"element_id": old_id, "state": state, "reason": "removed in the target"}
                changes = set(_changes(registry, task.task_spec, new)) - _WIRING
                if changes:
                    return None, {
                        "element_id": old_id,
                        "state": state,
                        "reason": "changed in the target (" + ", ".join(sorted(changes)) + ")",
                    }
            elif task.state & _MOVING:
                wanted = mapping.get(old_id, old_id)
                spec = targets.get(wanted) if diff is top else None
                if spec is None and diff is not top and new is not None and _bpmn_id(new) == wanted:
                    spec = new
                if spec is None:
                    hint = f"mapped to '{wanted}', which is not" if wanted != old_id else "not"
                    return None, {
                        "element_id": old_id,
                        "state": state,
                        "reason": f"{hint} in the target; map it to an element of the target",
                    }
                diff.alignment[task] = spec
                if task in diff.removed:
                    diff.removed.remove(task)
    gone = history_ids - {_bpmn_id(s) for s in new_spec.task_specs.values()}
    for sub in new_subs.values():
        gone -= {_bpmn_id(s) for s in sub.task_specs.values()}
    if gone:
        return None, {"element_id": sorted(gone)[0], "state": "COMPLETED", "reason": "removed in the target"}
    return (top, sub_diffs, new_spec, new_subs), None


def _changes(registry, old, new) -> list[str]:
    if new is None:
        return []
    s1, s2 = registry.convert(old), registry.convert(new)
    if s1.get("typename") != s2.get("typename"):
        return ["typename"]
    changes = [k for k, v in s1.items() if s2.get(k) != v]
    if "cond_task_specs" in changes and _conditions(s1) != _conditions(s2):
        changes.append("conditions")
    return changes


def _conditions(converted: dict) -> list:
    """A gateway's conditions, without the elements they lead to (those may be renamed)."""
    out = []
    for item in converted.get("cond_task_specs") or []:
        out.append(item.get("condition") if isinstance(item, dict) else item[0])
    return sorted(map(str, out))


def _passed_elements(instance_ids: list[int]) -> dict[int, set[str]]:
    """Elements each instance completed (history), including those compacted out of the tree."""
    out: dict[int, set[str]] = {i: set() for i in instance_ids}
    if not instance_ids:
        return out
    rows = db.session.execute(
        db.select(HistoryEvent.instance_id, HistoryEvent.element_id)
        .where(HistoryEvent.instance_id.in_(instance_ids), HistoryEvent.kind == "element_completed")
        .distinct()
    )
    for instance_id, element_id in rows:
        if element_id:
            out[instance_id].add(element_id)
    return out


def migration_dry_run(process_key: str, source_version: int, target_version: int, mapping=None) -> dict:
    """Every running ticket of `process_key` at `source_version`: can it move to `target_version`?

    Returns:
        {process_key, source_version, target_version, movable: [ticket ids], blocked: [{element_id,
        state, reason, tickets: [...]}] (grouped by reason), counts: {movable, blocked}}. Reads only.
    """
    mapping = check_mapping(mapping)
    source = _definition(process_key, source_version, "source_version")
    target = _definition(process_key, target_version, "target_version")
    if source.id == target.id:
        raise InvalidData(
            {"target_version": "the same as source_version"}, "target_version: the same as source_version"
        )
    rows = db.session.execute(
        db.select(ProcessInstance)
        .where(ProcessInstance.definition_id == source.id, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id)
    ).scalars()
    rows = list(rows)
    passed = _passed_elements([r.id for r in rows])
    spec, subs = specs.for_instance(source)
    movable, groups = [], {}
    for row in rows:
        wf = load_workflow(row.workflow, spec, subs)
        _, problem = _plan(wf, target, mapping, passed[row.id])
        ident = row.ticket_id if row.ticket_id is not None else f"instance {row.id}"
        if problem is None:
            movable.append(ident)
        else:
            key = (problem["element_id"], problem["state"], problem["reason"])
            groups.setdefault(key, {**problem, "tickets": []})["tickets"].append(ident)
    blocked = sorted(groups.values(), key=lambda g: (-len(g["tickets"]), g["element_id"]))
    return {
        "process_key": process_key,
        "source_version": source_version,
        "target_version": target_version,
        "movable": movable,
        "blocked": blocked,
        "counts": {"movable": len(movable), "blocked": sum(len(g["tickets"]) for g in blocked)},
    }


def _running_instance(ticket_id: int) -> int:
    row = db.session.execute(
        db.select(ProcessInstance.id)
        .where(ProcessInstance.ticket_id == ticket_id, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id.desc())
    ).first()
    if row is None:
        raise NotFound(f"ticket {ticket_id} has no running process")
    return row[0]


def migrate_instance(
    ticket_id: int,
    target_version: int,
    mapping=None,
    *,
    actor: str | None = None,
    batch_id: int | None = None,
) -> dict:
    """Move one ticket's running process to `target_version` of its type, in one transaction.

    Timers keep their due times, open user tasks keep their ids (and so their assignees), the
    ticket's status and SLA clock are not touched. Returns {ticket_id, from_version, to_version}.

    Raises:
        NotFound: no such ticket process or version. InvalidData: a bad mapping.
        Conflict: the ticket cannot move (the message names the element and its state).
    """
    mapping = check_mapping(mapping)

    def body():
        loaded = load(_running_instance(ticket_id))
        target = _definition(loaded.definition.key, target_version, "target_version")
        return _migrate(loaded, ticket_id, target, mapping, actor, "instance_migrated", batch_id)

    return run_command(body)


def migration_check(ticket_id: int, target_version: int, mapping=None) -> dict:
    """Can one ticket move to `target_version` of its type? Reads only.

    Returns:
        {ticket_id, from_version, to_version, movable, problem: {element_id, state, reason} | None}.

    Raises:
        NotFound: no running process or no such version. InvalidData: a bad mapping.
    """
    mapping = check_mapping(mapping)
    row = db.session.get(ProcessInstance, _running_instance(ticket_id))
    source = db.session.get(ProcessDefinition, row.definition_id)
    target = _definition(source.key, target_version, "target_version")
    problem = None
    if target.id == source.id:
        problem = {"element_id": "", "state": "", "reason": f"already on version {target.version}"}
    else:
        wf = load_workflow(row.workflow, *specs.for_instance(source))
        _, problem = _plan(wf, target, mapping, _passed_elements([row.id])[row.id])
    return {
        "ticket_id": ticket_id,
        "from_version": source.version,
        "to_version": target.version,
        "movable": problem is None,
        "problem": problem,
    }


def _migrate(
    loaded, ticket_id: int, target: ProcessDefinition, mapping: dict, actor, kind: str, batch_id=None
) -> dict:
    source = loaded.definition
    if target.id == source.id:
        raise Conflict(f"target_version: ticket {ticket_id} is already on version {target.version}")
    passed = _passed_elements([loaded.row.id])[loaded.row.id]
    plan, problem = _plan(loaded.wf, target, mapping, passed)
    if problem is not None:
        raise Conflict(
            f"ticket {ticket_id} cannot move to version {target.version}: element "
            f"'{problem['element_id']}' ({problem['state']}) is {problem['reason']}"
        )
    top, sub_diffs, new_spec, new_subs = plan
    _move(loaded.wf, top, sub_diffs, new_spec, new_subs)
    loaded.row.definition_id = target.id
    if loaded.ticket is not None:  # the version the dashboard's list filters and counts on
        loaded.ticket.definition_id = target.id
    loaded.definition = target
    history(
        kind,
        ticket_id=loaded.row.ticket_id,
        instance_id=loaded.row.id,
        actor=actor,
        at=utcnow(),
        data={
            "process_key": source.key,
            "from_version": source.version,
            "to_version": target.version,
            "mapping": mapping,
            **({"batch_id": batch_id} if batch_id is not None else {}),
        },
    )
    save(loaded, actor)
    _follow_projections(loaded.wf)
    return {"ticket_id": ticket_id, "from_version": source.version, "to_version": target.version}


def _move(wf, top, sub_diffs, new_spec, new_subs) -> None:
    """Swap the specs; put back what `reset_branch` wipes (timer due times, task data)."""
    kept = {t.id: (dict(t.internal_data), t.data) for t in projections.all_tasks(wf) if t.state & _MOVING}
    migrate_workflow(top, wf, new_spec)
    for sp_id, diff in sub_diffs.items():
        sub = wf.subprocesses[sp_id]
        migrate_workflow(diff, sub, new_subs.get(sub.spec.name, sub.spec))
    wf.subprocess_specs = new_subs
    for task in projections.all_tasks(wf):
        if task.id in kept and task.state & (_MOVING | TaskState.FUTURE):
            task.internal_data, task.data = kept[task.id][0], kept[task.id][1]


def _follow_projections(wf) -> None:
    """The rows of tasks that moved to another element take its id and names (assignees stay)."""
    snap = projections.snapshot(wf)
    for tid, info in snap.user_tasks.items():
        db.session.execute(
            db.update(HumanTask)
            .where(HumanTask.id == tid, HumanTask.name != info["name"])
            .values(name=info["name"], title=info["title"][:300], form_name=info["form_name"])
        )
    for tid, (element_id, _due) in snap.timers.items():
        db.session.execute(
            db.update(Timer)
            .where(Timer.id == tid, Timer.element_id != element_id)
            .values(element_id=element_id)
        )
    for tid, (name, element_id, correlations, key) in snap.messages.items():
        db.session.execute(
            db.update(MessageSubscription)
            .where(MessageSubscription.id == tid)
            .values(name=name, element_id=element_id, correlations=correlations, correlation_key=key)
        )
