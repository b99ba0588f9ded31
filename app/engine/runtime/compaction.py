"""Compaction of a process instance's task tree: delete finished history above the live frontier.

SpiffWorkflow unrolls every loop pass into new tasks and never removes old ones, so an
instance's size, step time and tree depth grow with its age until the engine crashes
(RecursionError) or silently stalls (iterator depth limit). `compact` cuts the finished chain
between each branch head and the live frontier, so a ticket costs the same at its 1,000th pass
as at its first. The algorithm, its invariants and the measurements are in
docs/history-growth.md, strategy (b).

The caller must:

* call `compact` only after the engine has settled (after `do_engine_steps()`, `send_event()` or
  `refresh_timers()`), never inside engine callbacks, and before serializing;
* write audit rows for everything the tree holds *before* compacting: the removed tasks are gone
  from the instance for good (no `task_removed_event` is fired);
* only name kept tasks afterwards (resets, UI links and undo cannot target removed ones).

This module reads and writes engine internals (`Task._parent`, `Task._children`, `wf.tasks`,
`wf.subprocesses`, `wf.event_manager`, `wf.last_task`): SpiffWorkflow is pinned, and the
lockstep tests in tests/engine/test_compaction.py must pass on every upgrade.
"""

import logging
from collections.abc import Iterable
from copy import deepcopy
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

log = logging.getLogger(__name__)


def compact(workflow: BpmnWorkflow) -> list[Task]:
    """Delete finished history from a settled instance, in place.

    Runs on the top workflow and then on every sub-workflow that is still running. Only
    finished tasks are deleted, together with the sub-workflows they own.

    Args:
        workflow: The top-level workflow, settled after a command.

    Returns:
        The removed tasks (of the workflow and of deleted sub-workflows), so the caller can
        check that each of them was audited.
    """
    removed = _compact_workflow(workflow, workflow)
    for sub_id, sub in list(workflow.subprocesses.items()):
        # A sub-workflow may have been deleted with a finished task of its parent meanwhile.
        if workflow.subprocesses.get(sub_id) is sub and not sub.completed:
            removed.extend(_compact_workflow(workflow, sub))
    return removed


def tree_stats(workflow: BpmnWorkflow) -> dict:
    """Measure an instance's task tree without recursion, for guardrails and logs.

    Args:
        workflow: The top-level workflow.

    Returns:
        `tasks`: tasks in the workflow and all retained sub-workflows; `depth`: the deepest
        parent chain in any one of those trees (what the engine's recursive ancestor walks and
        its depth-limited iterators see); `subprocesses`: retained sub-workflows.
    """
    workflows = [workflow, *workflow.subprocesses.values()]
    depth = 0
    for wf in workflows:
        level, frontier = 0, [wf.task_tree]
        while frontier:
            depth = max(depth, level)
            frontier = [child for task in frontier for child in task.children if child is not None]
            level += 1
    return {
        "tasks": sum(len(wf.tasks) for wf in workflows),
        "depth": depth,
        "subprocesses": len(workflow.subprocesses),
    }


def _compact_workflow(top: BpmnWorkflow, wf: BpmnBaseWorkflow) -> list[Task]:
    """Compact one workflow (the top one or a sub-workflow) branch by branch."""
    tasks = wf.tasks
    live = [task for task in tasks.values() if _is_live(task)]
    floating = {task.id for task in live if _is_floating_end_join(task)}

    # Scan the dict, not the tree: the tree walk is what breaks on deep instances.
    required: set[UUID] = set()
    for task in live:
        if _under_floating(task, floating):
            continue
        required.add(task.id)
        if task._parent is not None:
            # The parent's data is merged over the task's own on every update.
            required.add(task._parent)
        split = _split_ancestor(task)
        if split is not None:
            required.add(split.id)

    paths_by_head: dict[UUID, list[list[UUID]]] = {}
    for task_id in required:
        path = _path_from_root(tasks, task_id)
        if len(path) >= 2:
            paths_by_head.setdefault(path[1], []).append(path)

    removed: list[Task] = []
    for head in list(wf.task_tree.children):
        paths = paths_by_head.get(head.id)
        if paths is not None:
            removed.extend(_splice(top, wf, head, _common_prefix(paths)))
        elif head.triggered:
            removed.extend(_drop_ended_branch(top, wf, head))

    if wf.last_task is not None and wf.last_task.id not in tasks:
        # Otherwise the serializer writes an id that loads as None: round trips would differ.
        wf.last_task = None
    return removed


def _splice(top: BpmnWorkflow, wf: BpmnBaseWorkflow, head: Task, anchor_path: list[UUID]) -> list[Task]:
    """Hang the anchor directly under `head` and delete the finished tasks left outside it.

    `anchor_path` runs from the root to the anchor. Floating EndJoins (and their end events)
    found outside the anchor are re-hung under `head`; their cancelled copies are folded into
    the newest one.
    """
    if len(anchor_path) <= 3:
        return []  # the anchor is already the head or its child
    tasks = wf.tasks
    anchor, first = tasks[anchor_path[-1]], anchor_path[2]
    outside = _subtree_ids(tasks, head.id, stop=anchor.id)
    outside.remove(head.id)

    keep_roots = [tasks[tid]._parent for tid in outside if _is_floating_end_join(tasks[tid])]
    # The engine merges finished EndJoin copies oldest first (`UnstructuredJoin._run_hook`).
    copies = sorted((tasks[tid] for tid in outside if _is_end_join_copy(tasks[tid])), key=_changed_at)
    if copies:
        keep_roots.append(copies[-1]._parent)
    kept = set()
    for root_id in keep_roots:
        kept |= _subtree_ids(tasks, root_id)
    doomed = [tid for tid in tasks if tid in outside and tid not in kept]
    if set(keep_roots) & set(anchor_path) or any(_is_live(tasks[tid]) for tid in doomed):
        # A shape this algorithm does not know: leave the branch as it is rather than guess.
        log.warning("compaction skipped branch %s of %s: live task outside the anchor", head.id, wf.spec.name)
        return []

    if len(copies) > 1:
        _fold_end_join_copies(copies)
    order = {tid: index for index, tid in enumerate(tasks) if tid in kept}
    children = [anchor.id if cid == first else cid for cid in head._children if cid == first or cid in kept]
    children += sorted((rid for rid in keep_roots if rid not in children), key=order.__getitem__)
    for child_id in children:
        # Re-parent only under an older task: the deserializer needs parents before children.
        tasks[child_id]._parent = head.id
    head._children = children
    return _delete(top, wf, doomed)


def _drop_ended_branch(top: BpmnWorkflow, wf: BpmnBaseWorkflow, head: Task) -> list[Task]:
    """Delete a triggered branch (an event-subprocess instance) that has fully ended.

    A branch that still holds an EndJoin (waiting or cancelled) is kept: the process end merges
    its data.
    """
    branch = _subtree_ids(wf.tasks, head.id)
    if any(_is_live(wf.tasks[tid]) or isinstance(wf.tasks[tid].task_spec, _EndJoin) for tid in branch):
        return []
    wf.task_tree._children = [cid for cid in wf.task_tree._children if cid != head.id]
    return _delete(top, wf, [tid for tid in wf.tasks if tid in branch])


def _fold_end_join_copies(copies: list[Task]) -> None:
    """Fold finished EndJoin copies (oldest first) into the newest one, which alone is kept.

    The EndJoin that finally runs merges the parent data of every finished copy, oldest first
    (`UnstructuredJoin._run_hook`). Merging the parents' data into the newest parent in that
    order gives the same result with one copy (exact for scalars and dicts; lists go through
    `DeepMerge.merge_array`).
    """
    folded: dict = {}
    for copy in copies:
        DeepMerge.merge(folded, deepcopy(copy.parent.data))
    copies[-1].parent.data = folded


def _changed_at(task: Task) -> float:
    return task.last_state_change


def _delete(top: BpmnWorkflow, wf: BpmnBaseWorkflow, task_ids: Iterable[UUID]) -> list[Task]:
    """Remove tasks from the workflow, the event manager and the sub-workflow registry."""
    removed = []
    for task_id in task_ids:
        task = wf.tasks.pop(task_id)
        removed.append(task)
        if task_id in top.subprocesses:
            removed.extend(_delete_subworkflows(top, task_id))
    for task in removed:
        top.event_manager.remove_task(task)
    return removed


def _delete_subworkflows(top: BpmnWorkflow, task_id: UUID) -> list[Task]:
    """Delete the sub-workflow owned by a finished task and every one nested in it.

    Does what `BpmnWorkflow.delete_subprocess` does, without its recursion and without its
    quadratic scan of all sub-workflows (which matters when rescuing an old instance).
    """
    removed, pending = [], [task_id]
    while pending:
        sub = top.subprocesses.pop(pending.pop())
        removed.extend(sub.tasks.values())
        pending.extend(tid for tid in sub.tasks if tid in top.subprocesses)
    return removed


def _is_live(task: Task) -> bool:
    return task.has_state(TaskState.NOT_FINISHED_MASK)


def _is_floating_end_join(task: Task) -> bool:
    """A live process EndJoin below a finished task: it waits for the whole tree, not a branch."""
    parent = task.parent
    return (
        isinstance(task.task_spec, _EndJoin)
        and _is_live(task)
        and parent is not None
        and parent.has_state(TaskState.FINISHED_MASK)
    )


def _is_end_join_copy(task: Task) -> bool:
    return isinstance(task.task_spec, _EndJoin) and task.has_state(TaskState.FINISHED_MASK)


def _under_floating(task: Task, floating: set[UUID]) -> bool:
    """Whether the task is a floating EndJoin or one of its predicted descendants."""
    node = task
    while node is not None and _is_live(node):
        if node.id in floating:
            return True
        node = node.parent
    return False


def _split_ancestor(task: Task) -> Task | None:
    """The split a live structured join reads (`find_ancestor`, done without recursion)."""
    spec = task.task_spec
    if not isinstance(spec, Join) or spec.split_task is None:
        return None
    node = task.parent
    while node is not None and node.task_spec.name != spec.split_task:
        node = node.parent
    return node


def _path_from_root(tasks: dict[UUID, Task], task_id: UUID) -> list[UUID]:
    path = []
    while task_id is not None and task_id in tasks:
        path.append(task_id)
        task_id = tasks[task_id]._parent
    path.reverse()
    return path


def _common_prefix(paths: list[list[UUID]]) -> list[UUID]:
    """The path from the root to the deepest common ancestor of the paths' ends."""
    prefix = paths[0]
    for path in paths[1:]:
        length = 0
        while length < min(len(prefix), len(path)) and prefix[length] == path[length]:
            length += 1
        prefix = prefix[:length]
    return prefix


def _subtree_ids(tasks: dict[UUID, Task], root_id: UUID, stop: UUID | None = None) -> set[UUID]:
    """Ids of `root_id` and its descendants, not descending into (nor including) `stop`."""
    found, pending = set(), [root_id]
    while pending:
        task_id = pending.pop()
        if task_id == stop or task_id not in tasks:
            continue
        found.add(task_id)
        pending.extend(tasks[task_id]._children)
    return found
