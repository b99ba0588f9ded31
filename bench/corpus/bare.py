"""Bare SpiffWorkflow 3.2 as a plain user would run a diagram.

The stock `SpiffBpmnParser` without a validator, the stock Python script engine, service calls
answering `{}`, tasks completed with the recipe data, messages delivered, timers forced.
"""

import json
from datetime import UTC, datetime, timedelta

from bench.corpus.dataset import Bundle, read_tree, top_process
from bench.corpus.driving import MAX_ROUNDS, Recipe, form_data, load_form


def run_bare(bundle: Bundle) -> dict:
    """Parse and drive the bundle on bare SpiffWorkflow 3.2. Returns {result, where, process}."""
    import warnings

    from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
    from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
        CycleTimerEventDefinition,
        TimeDateEventDefinition,
        TimerEventDefinition,
    )
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.util.task import TaskState

    warnings.simplefilter("ignore")

    class ServiceAnswersEmpty(PythonScriptEngine):
        def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
            return json.dumps({})

    recipe = Recipe(bundle.id)
    forms = {p.name: p for p in bundle.forms}
    parser = SpiffBpmnParser()
    try:
        for path in bundle.dmn:
            parser.add_dmn_file(str(path))
        for path in bundle.bpmn_files():
            parser.add_bpmn_file(str(path))
        trees = [read_tree(p) for p in bundle.bpmn_files()]
        ids = parser.get_process_ids()
        candidates, collaborations = top_process([t for t in trees if t is not None], ids)
        if not ids:  # ask for the first process anyway: the library says why it will not run
            first = next(iter(parser.process_parsers), None)
            if first is None:
                return {"result": "parse error", "where": "no process in the file"}
            parser.get_spec(first)
        if len(candidates) > 1 and collaborations:
            process = collaborations[0]
            spec, subprocess_specs = parser.get_collaboration(process)
        else:
            process = (candidates or ids)[0]
            spec, subprocess_specs = parser.get_spec(process), parser.get_subprocess_specs(process)
    except Exception as exc:
        return {"result": "parse error", "where": describe_exception(exc)}

    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=ServiceAnswersEmpty())
    wf.task_tree.data.update(recipe.start)

    def all_tasks():
        yield from wf.tasks.values()
        for sub in wf.subprocesses.values():
            yield from sub.tasks.values()

    def definitions(task):
        definition = task.task_spec.event_definition
        if isinstance(definition, MultipleEventDefinition):
            return definition.event_definitions
        return [definition]

    def due_of(task, definition):
        value = task.internal_data.get("event_value")
        if value is None:
            return None
        if isinstance(definition, CycleTimerEventDefinition):
            return None if value["cycles"] == 0 else datetime.fromisoformat(value["next"])
        if isinstance(definition, TimeDateEventDefinition):
            return TimerEventDefinition.parse_time_or_duration(value)
        return TimerEventDefinition.get_datetime(value)

    def act(kind) -> str | None:
        """Do one kind of thing; returns a note of what was done, or None."""
        if kind == "task":
            # One task per round: completing one may cancel another (first approval wins).
            task = next((t for t in all_tasks() if t.state == TaskState.READY and t.task_spec.manual), None)
            if task is None:
                return None
            props = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
            schema = load_form(forms, props.get("formJsonSchemaFilename"))
            data = (
                form_data(schema, recipe.task(task.task_spec.bpmn_id))
                if schema
                else recipe.task(task.task_spec.bpmn_id)
            )
            task.set_data(**data)
            task.run()
            return f"completed {task.task_spec.bpmn_id}"
        waiting = list(wf.event_manager.tasks.values())
        if kind == "message":
            for task in waiting:
                for definition in definitions(task):
                    if isinstance(definition, MessageEventDefinition):
                        payload = recipe.message(definition.name)
                        try:
                            correlations = definition.calculate_correlations(
                                wf.script_engine, definition.correlation_properties, payload
                            )
                        except Exception:
                            correlations = {}
                        wf.send_event(BpmnEvent(definition, payload, correlations))
                        return f"sent {definition.name}"  # one per round: it may end the others' wait
            return None
        timers = [
            (due_of(t, d), t, d)
            for t in waiting
            for d in definitions(t)
            if isinstance(d, TimerEventDefinition)
        ]
        timers = [x for x in timers if x[0] is not None]
        if not timers:
            return None
        first = min(due for due, _, _ in timers)
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        for due, task, _ in timers:
            if due <= first:
                value = task.internal_data.get("event_value")
                if isinstance(value, dict):
                    value["next"] = past
                else:
                    task.internal_data["event_value"] = past
        wf.refresh_timers()
        return "fired timer"

    try:
        wf.do_engine_steps()
        for _ in range(MAX_ROUNDS):
            if wf.is_completed():
                return {"result": "runs to end", "process": process}
            done = next((note for kind in recipe.order if (note := act(kind))), None)
            wf.do_engine_steps()
            if done is None:
                break
        else:
            return {
                "result": "stalls",
                "where": f"still running after {MAX_ROUNDS} rounds",
                "process": process,
            }
        if wf.is_completed():
            return {"result": "runs to end", "process": process}
        return {
            "result": "stalls",
            "where": bare_open(all_tasks(), TaskState, definitions),
            "process": process,
        }
    except Exception as exc:
        return {"result": "fails", "where": describe_exception(exc), "process": process}


def bare_open(tasks, TaskState, definitions) -> str:
    """What a stalled bare workflow still has open."""
    parts = []
    for task in tasks:
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        if bpmn_id is None:
            continue
        if task.state == TaskState.WAITING and getattr(spec, "event_definition", None) is not None:
            kinds = ", ".join(
                f"{type(d).__name__.replace('EventDefinition', '').lower()} "
                f"{getattr(d, 'name', '') or ''}".strip()
                for d in definitions(task)
            )
            parts.append(f"{bpmn_id} waits ({kinds})")
        elif task.state in (TaskState.STARTED, TaskState.ERROR):
            parts.append(f"{bpmn_id} {TaskState.get_name(task.state)}")
    return "; ".join(dict.fromkeys(parts)) or "nothing open, not completed"


def describe_exception(exc: BaseException) -> str:
    """'<element id>: message' for library errors, 'Type: message' otherwise; one line."""
    task = getattr(exc, "task", None)
    element = getattr(getattr(task, "task_spec", None), "bpmn_id", None) or getattr(exc, "id", None)
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if element:
        return f"{element}: {message}"
    return f"{type(exc).__name__}: {message}"
