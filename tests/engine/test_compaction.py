"""Compaction keeps looping instances small and behaving exactly like the unrolled engine.

Plain SpiffWorkflow, no database: each command loads the instance from JSON, acts, compacts
and dumps it again, as the server does. See docs/history-growth.md, strategy (b).
"""

import json
import random
import sys
from collections.abc import Callable, Iterator
from copy import deepcopy
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG as SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.engine.runtime.compaction import compact, tree_stats

DIAGRAMS = Path(__file__).parent / "diagrams"
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
PAST = "2000-01-01T00:00:00+00:00"
# Compacted, the loop diagram holds 13-15 tasks at depth 6-8; round 19; nested 23; rich 28-32.
MAX_TASKS, MAX_DEPTH = 20, 10

Command = Callable[[BpmnWorkflow], None]


def start(process_id: str) -> BpmnWorkflow:
    """Start an instance; `round` comes with the start payload, so the branch head holds it."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(DIAGRAMS / f"{process_id}.bpmn"))
    workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
    workflow.task_tree.data.update(round=0)
    workflow.do_engine_steps()
    return workflow


def round_trip(workflow: BpmnWorkflow) -> BpmnWorkflow:
    return SERIALIZER.deserialize_json(SERIALIZER.serialize_json(workflow))


class StoredInstance:
    """An instance kept as JSON between commands, compacted before each save unless told not to."""

    def __init__(self, workflow: BpmnWorkflow, compacted: bool = True):
        self.compacted = compacted
        self.blob = self._save(workflow)

    def run(self, command: Command) -> BpmnWorkflow:
        workflow = SERIALIZER.deserialize_json(self.blob)
        command(workflow)
        self.blob = self._save(workflow)
        return workflow

    def _save(self, workflow: BpmnWorkflow) -> str:
        if self.compacted:
            compact(workflow)
        return SERIALIZER.serialize_json(workflow)


def all_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    """Every task of the instance and its sub-workflows, read from the dicts, not the tree."""
    for wf in (workflow, *workflow.subprocesses.values()):
        yield from wf.tasks.values()


def find(workflow: BpmnWorkflow, spec_name: str, state: int) -> Task | None:
    """Find a task without the engine's iterators, which break on deep trees."""
    return next((t for t in all_tasks(workflow) if t.task_spec.name == spec_name and t.state == state), None)


def complete_review(decision: str, **data) -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        task = find(workflow, "review", TaskState.READY)
        task.set_data(decision=decision, round=task.data["round"] + 1, **data)
        task.run()
        workflow.do_engine_steps()

    return command


def deliver_reply(payload) -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        workflow.send_event(BpmnEvent(MessageEventDefinition("customer_reply"), payload))
        workflow.do_engine_steps()

    return command


def escalate(workflow: BpmnWorkflow) -> None:
    workflow.send_event(BpmnEvent(MessageEventDefinition("escalate"), {}))
    workflow.do_engine_steps()


def fire_timer(spec_name: str) -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        find(workflow, spec_name, TaskState.WAITING).internal_data["event_value"] = PAST
        workflow.refresh_timers()
        workflow.do_engine_steps()

    return command


def run_loop(stored: StoredInstance, passes: int) -> Iterator[tuple[int, BpmnWorkflow]]:
    """Run review -> ask -> reply passes, yielding the instance as loaded for each reply."""
    for n in range(1, passes + 1):
        stored.run(complete_review("more_info"))
        yield n, stored.run(deliver_reply({"text": f"reply {n}"}))


def observe(workflow: BpmnWorkflow) -> tuple:
    """What a user or the server can see of an instance, independent of task ids."""
    live = sorted(
        (t.task_spec.name, t.state) for t in all_tasks(workflow) if t.has_state(TaskState.NOT_FINISHED_MASK)
    )
    ready = sorted(
        (t.task_spec.name, json.dumps(t.data, sort_keys=True))
        for t in workflow.get_tasks(state=TaskState.READY)
    )
    return live, ready, workflow.is_completed(), json.dumps(workflow.data, sort_keys=True)


@pytest.fixture
def deep_recursion():
    """The unrolled engine recurses once per tree level (`Task.is_descendant_of`)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    yield
    sys.setrecursionlimit(limit)


def test_loop_stays_small_and_flat_for_300_passes_with_compaction():
    stored = StoredInstance(start("compaction_loop"))
    sizes = []
    for n, workflow in run_loop(stored, 300):
        stats = tree_stats(workflow)
        assert stats["tasks"] <= MAX_TASKS and stats["depth"] <= MAX_DEPTH, (n, stats)
        review = workflow.get_next_task(state=TaskState.READY, spec_name="review")
        assert review.data["reply"] == {"text": f"reply {n}"}
        assert review.data["round"] == n
        sizes.append(len(stored.blob))
    assert max(sizes) <= min(sizes) * 1.02

    workflow = stored.run(complete_review("done"))
    assert workflow.is_completed()
    assert workflow.data == {
        "round": 301,
        "status": "new",
        "reply": {"text": "reply 300"},
        "decision": "done",
    }


def test_loop_grows_without_compaction():
    stored = StoredInstance(start("compaction_loop"), compacted=False)
    sizes, stats = [], {}
    for _, workflow in run_loop(stored, 20):
        stats = tree_stats(workflow)
        sizes.append(len(stored.blob))
    assert stats["tasks"] > MAX_TASKS * 5 and stats["depth"] > MAX_DEPTH * 5
    assert sizes[-1] > sizes[0] * 2


@pytest.mark.parametrize(
    "process_id, seed, passes, ending, max_tasks",
    [
        ("compaction_loop", 11, 60, complete_review("done", note="closing"), MAX_TASKS),
        ("compaction_loop", 12, 60, fire_timer("sla_timer"), MAX_TASKS),
        # The unrolled parallel join costs passes^3 (is_descendant_of per instance and level).
        ("compaction_rich", 21, 25, fire_timer("sla_timer"), 40),
        ("compaction_rich", 22, 25, complete_review("done", note="closing"), 40),
        ("compaction_round", 31, 40, complete_review("done"), 25),
        ("compaction_nested", 41, 40, fire_timer("sla_timer"), 30),
    ],
    ids=["loop-done", "loop-timeout", "rich-timeout", "rich-done", "round-done", "nested-timeout"],
)
def test_compacted_instance_behaves_like_the_unrolled_engine(
    process_id, seed, passes, ending, max_tasks, deep_recursion
):
    rng = random.Random(seed)
    blob = SERIALIZER.serialize_json(start(process_id))
    unrolled = SERIALIZER.deserialize_json(blob)
    stored = StoredInstance(SERIALIZER.deserialize_json(blob))
    replies, steps = 0, 0
    while not unrolled.is_completed():
        if find(unrolled, "wait_reply", TaskState.WAITING) is not None:
            replies += 1
            payload = rng.choice(
                [f"text {replies}", {"text": replies, "tags": ["a", f"t{replies % 3}"]}, None]
            )
            command = deliver_reply(payload)
        elif replies >= passes:
            command = ending
        else:
            choices = [complete_review("more_info", note=rng.random())] * 3
            if find(unrolled, "reminder_timer", TaskState.WAITING) is not None:
                choices.append(fire_timer("reminder_timer"))
            if "escalation" in unrolled.spec.task_specs:
                choices.append(escalate)
            command = rng.choice(choices)
        command(unrolled)
        compacted = stored.run(command)
        steps += 1
        assert observe(compacted) == observe(unrolled), f"step {steps}, pass {replies}"
        assert tree_stats(compacted)["tasks"] <= max_tasks, f"step {steps}, pass {replies}"
    assert replies == passes and unrolled.data["round"] >= passes
    assert tree_stats(unrolled)["tasks"] > max_tasks * 5


@pytest.mark.parametrize("process_id", ["compaction_rich", "compaction_round"])
def test_compaction_deletes_only_finished_history_and_leaves_no_trace(process_id):
    workflow = start(process_id)
    for n in range(5):
        if process_id == "compaction_rich":
            fire_timer("reminder_timer")(workflow)
            escalate(workflow)
        complete_review("more_info")(workflow)
        deliver_reply(f"reply {n}")(workflow)
    workflow.last_task = find(workflow, "init", TaskState.COMPLETED)  # as a reset can leave it
    before = {t.id: (t.state, deepcopy(t.data)) for t in all_tasks(workflow)}
    live = [tid for tid, (state, _) in before.items() if state & TaskState.NOT_FINISHED_MASK]
    assert len(workflow.subprocesses) == 5 + (process_id == "compaction_round")

    removed = {t.id for t in compact(workflow)}

    kept = {t.id: t for t in all_tasks(workflow)}
    assert removed and all(before[tid][0] & TaskState.FINISHED_MASK for tid in removed)
    assert removed | set(kept) == set(before) and removed.isdisjoint(kept)
    assert all((kept[tid].state, kept[tid].data) == before[tid] for tid in live)
    assert removed.isdisjoint(workflow.event_manager.tasks)
    assert removed.isdisjoint(workflow.subprocesses) and set(workflow.subprocesses) <= set(kept)
    assert len(workflow.subprocesses) <= 1
    assert workflow.last_task is None
    for wf in (workflow, *workflow.subprocesses.values()):
        position = {tid: index for index, tid in enumerate(wf.tasks)}
        for task in wf.tasks.values():
            if task is not wf.task_tree:
                assert position[task._parent] < position[task.id]
                assert task.id in wf.tasks[task._parent]._children
    blob = SERIALIZER.serialize_json(workflow)
    assert SERIALIZER.serialize_json(SERIALIZER.deserialize_json(blob)) == blob


def test_folded_reminder_end_joins_give_the_final_data_of_the_unrolled_engine():
    unrolled = start("compaction_rich")
    for n in range(6):
        fire_timer("reminder_timer")(unrolled)
        complete_review("more_info", **{f"seen_{n}": n})(unrolled)
        deliver_reply({"text": f"reply {n}", f"only_{n}": True})(unrolled)
    compacted = round_trip(unrolled)
    compact(compacted)
    for workflow in (unrolled, compacted):
        complete_review("done")(workflow)

    assert compacted.is_completed() and unrolled.is_completed()
    assert compacted.data == unrolled.data


def test_deep_instance_is_rescued_by_one_compaction(deep_recursion):
    workflow = start("compaction_loop")
    for n in range(1, 151):
        complete_review("more_info")(workflow)
        deliver_reply({"text": f"reply {n}"})(workflow)
    workflow = round_trip(workflow)
    before = tree_stats(workflow)

    removed = compact(workflow)

    after = tree_stats(workflow)
    assert before["depth"] > 500
    assert after["tasks"] <= MAX_TASKS and after["depth"] <= MAX_DEPTH
    assert len(removed) == before["tasks"] - after["tasks"]
    stored = StoredInstance(workflow)
    stored.run(complete_review("more_info"))
    workflow = stored.run(deliver_reply({"text": "reply 151"}))
    review = workflow.get_next_task(state=TaskState.READY, spec_name="review")
    assert review.data["round"] == 151 and review.data["reply"] == {"text": "reply 151"}
    workflow = stored.run(complete_review("done"))
    assert workflow.is_completed()
    assert workflow.data == {
        "round": 152,
        "status": "new",
        "reply": {"text": "reply 151"},
        "decision": "done",
    }
