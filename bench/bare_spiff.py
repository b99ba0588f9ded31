"""The same steps on bare SpiffWorkflow, as a naive server would run them: the floor we compare to.

The diagram is parsed once with the stock `SpiffBpmnParser`. A start creates the workflow
with the same initial data as `start_process`, runs the engine (service tasks are called
inline and answer JSON at once, so it reaches the first user task) and serializes it with the
spec embedded. A completion deserializes that text, runs the user task, runs the engine and
serializes again. No database is involved.
"""

import json
from pathlib import Path
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.util.task import TaskState

from bench.measure import timed
from bench.world import ANSWER_LATER, START_DATA, SUBJECT

PROCESSES = Path(__file__).resolve().parent.parent / "processes"

# What the real handlers answer, so the task data has the same shape.
SERVICE_RESULTS = {
    "ticket.set_status": lambda p: {"status": p["status"], "resolution": p.get("resolution")},
    "notify.customer": lambda p: {"outbox_id": 1},
}


class InlineServiceEngine(PythonScriptEngine):
    """The stock script engine; service tasks answer at once instead of becoming jobs."""

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        params = {name: param["value"] for name, param in (operation_params or {}).items()}
        answer = SERVICE_RESULTS.get(operation_name, lambda p: {"ok": True})
        return json.dumps(answer(params))


class BareSpiff:
    """One parsed diagram and the stock spiff serializer (spec embedded in every instance)."""

    def __init__(self, key: str):
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(PROCESSES / f"{key}.bpmn"))
        self.key = key
        self.spec = parser.get_spec(key)
        self.subprocess_specs = parser.get_subprocess_specs(key)
        self.script_engine = InlineServiceEngine()
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))

    def initial(self, ticket_id: int, profile: dict) -> dict:
        """The root data `start_process` gives a workflow."""
        return {
            **START_DATA[self.key],
            "ticket_id": ticket_id,
            "ticket_type": self.key,
            "subject": SUBJECT,
            "priority": "high",
            "customer": profile,
        }

    def start(self, ticket_id: int, profile: dict) -> tuple[str, str]:
        """Create, run to the first user task, serialize. Returns (stored text, user task id)."""
        wf = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        wf.task_tree.data.update(self.initial(ticket_id, profile))
        wf.do_engine_steps()
        task = wf.get_next_task(state=TaskState.READY, manual=True)
        return self.serializer.serialize_json(wf), str(task.id)

    def complete(self, stored: str, task_id: str, data: dict) -> str:
        """Deserialize, run the user task with form data, run the engine, serialize."""
        wf = self.serializer.deserialize_json(stored)
        wf.script_engine = self.script_engine
        task = wf.get_task_from_id(UUID(task_id))
        task.set_data(**data)
        task.run()
        wf.do_engine_steps()
        return self.serializer.serialize_json(wf)


def run_bare(n: int, profile: dict) -> dict:
    """Time n bare starts per process and n bare completions of the general user task.

    Returns:
        {"start(general)": Sample, "start(return)": Sample, "complete_task": Sample,
         "stored_bytes": {...}}
    """
    figures: dict = {}
    stored_general: list[tuple[str, str]] = []
    for key in START_DATA:
        bare = BareSpiff(key)
        for i in range(3):  # warm up
            bare.start(i, profile)
        sample, results = timed(range(n), lambda i, bare=bare: bare.start(i, profile))
        figures[f"start({key})"] = sample
        if key == "general":
            general, stored_general = bare, results
    sample, completed = timed(stored_general, lambda item: general.complete(item[0], item[1], ANSWER_LATER))
    figures["complete_task"] = sample
    figures["stored_bytes"] = {
        "general, at its first user task": round(sum(len(s) for s, _ in stored_general) / n),
        "general, after one completion": round(sum(len(s) for s in completed) / n),
    }
    return figures


def check(profile: dict) -> None:
    """Fail loudly if the bare run does not end where Ticketflow does (answer_question open)."""
    bare = BareSpiff("general")
    stored, task_id = bare.start(1, profile)
    wf = bare.serializer.deserialize_json(bare.complete(stored, task_id, ANSWER_LATER))
    ready = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True)]
    if ready != ["answer_question"]:
        raise RuntimeError(f"bare SpiffWorkflow run ended at {ready}, expected answer_question")
