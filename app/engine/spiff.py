"""Our configuration of SpiffWorkflow: parser, parked service tasks, serializer, script engine.

Everything the rest of the engine needs from the library goes through here, so the few places
where we extend it (by subclassing and configuration, never by patching) are in one file.
"""

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG as SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.parser.util import full_tag

from app.engine.expressions import ExpressionError, SafeEnvironment, check_timer_value, timer_kind_for

SERIALIZER_VERSION = "1.5"
MAX_EXPRESSION = 2000


class ParkedServiceTask(ServiceTask):
    """A service task that does not call anything: it evaluates its parameters and parks.

    The task stays STARTED; the engine turns it into a `job` row, a worker runs the handler
    after commit, and `complete_job` writes the result into the task and moves on.
    """

    def _execute(self, task):
        task.internal_data["job_params"] = {
            name: value["value"] for name, value in self.evaluate_params(task).items()
        }
        return None


class TicketflowParser(SpiffBpmnParser):
    """The Spiff parser (it reads spiffworkflow: extensions) with parked service tasks."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, ParkedServiceTask),
    }


class _WorkflowByReferenceConverter(BpmnWorkflowConverter):
    """Serialize a workflow without its spec; the spec is handed back on restore.

    Two thirds of a stored instance was its spec; the spec lives once in the definition.
    """

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[ParkedServiceTask] = ServiceTaskConverter
    config[BpmnWorkflow] = _WorkflowByReferenceConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _make_serializer()
# The full-spec serializer is kept for specs only (cold cache rebuilds parse the XML instead).


class TicketflowScriptEngine(PythonScriptEngine):
    """Evaluates every diagram expression through the safe, whitelisted environment."""

    def __init__(self):
        super().__init__(environment=SafeEnvironment())

    def validate(self, expression):
        if len(expression) > MAX_EXPRESSION:  # DMN cells reach ast.parse unchecked
            raise SyntaxError(f"expression longer than {MAX_EXPRESSION} characters")
        super().validate(expression)

    def evaluate(self, task, expression, external_context=None):
        try:
            value = self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as exc:
            raise WorkflowTaskException(f"{exc} (in '{expression}')", task=task, exception=exc) from exc
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            raise WorkflowTaskException(f"{type(exc).__name__}: {exc} (in '{expression}')",
                                        task=task, exception=exc) from exc
        kind = timer_kind_for(task, expression)
        if kind is not None:  # a huge duration from data would make the library loop for hours
            try:
                check_timer_value(kind, value)
            except ExpressionError as exc:
                raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc
        return value

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        raise RuntimeError("service tasks are parked as jobs, never called inline")


SCRIPT_ENGINE = TicketflowScriptEngine()


def new_workflow(spec, subprocess_specs: dict, data: dict) -> BpmnWorkflow:
    """Create a workflow from a cached spec with the initial payload in its root data."""
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    wf.task_tree.data.update(data)
    return wf


def dump_workflow(wf: BpmnWorkflow) -> str:
    """Serialize a workflow (without its spec) to JSON text."""
    registry = SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = SERIALIZER.to_dict(wf)
        dct[SERIALIZER.VERSION_KEY] = SERIALIZER_VERSION
        return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_workflow(text: str, spec, subprocess_specs: dict) -> BpmnWorkflow:
    """Restore a workflow we wrote ourselves; only format 1.5 is accepted (older ones eval)."""
    dct = json.loads(text)
    version = dct.pop(SERIALIZER.VERSION_KEY, None)
    if version != SERIALIZER_VERSION:
        raise ValueError(f"refusing workflow of serializer version {version!r}")
    wf = SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    wf.script_engine = SCRIPT_ENGINE
    return wf


def timer_due(task) -> datetime | None:
    """When a WAITING timer catch event is due (aware UTC), or None if it will never fire."""
    definition = task.task_spec.event_definition
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        return None if value["cycles"] == 0 else datetime.fromisoformat(value["next"])
    if isinstance(definition, TimeDateEventDefinition):
        return TimerEventDefinition.parse_time_or_duration(value)
    return TimerEventDefinition.get_datetime(value)


def force_timer_due(task, when: datetime) -> None:
    """Make a waiting timer due at `when` (the worker decided it is due by our clock)."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value["next"] = when.isoformat()
    else:
        task.internal_data["event_value"] = when.isoformat()


def is_timer_catch(task) -> bool:
    spec = task.task_spec
    return isinstance(spec, CatchingEvent) and isinstance(
        getattr(spec, "event_definition", None), TimerEventDefinition
    )


def json_safe(value: Any) -> Any:
    """Round-trip a value through JSON with the serializer's encoder (datetimes etc.)."""
    return json.loads(json.dumps(value, cls=SERIALIZER._encoder_cls))
