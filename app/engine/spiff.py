"""Our configuration of SpiffWorkflow: parser, parked service tasks, serializer, script engine.

Everything the rest of the engine needs from the library goes through here, so the few places
where we extend it (by subclassing and configuration, never by patching) are in one file.
"""

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import (
    BusinessRuleTaskParser,
    ServiceTaskParser,
    SpiffTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG as SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask, ManualTask, ServiceTask, UserTask

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


def _resource_owner(node) -> dict | None:
    """{"kind", "expression"} of a task's potentialOwner or humanPerformer, or None."""
    for kind in ("humanPerformer", "potentialOwner", "performer"):
        for role in node.findall(full_tag(kind)):
            expression = role.find(f"{full_tag('resourceAssignmentExpression')}/{full_tag('formalExpression')}")
            if expression is not None and (expression.text or "").strip():
                return {"kind": kind, "expression": expression.text.strip()}
            ref = role.find(full_tag("resourceRef"))
            if ref is not None and (ref.text or "").strip():
                return {"kind": kind, "expression": ref.text.strip()}
    return None


class _OwnedTaskParser(SpiffTaskParser):
    """Reads `potentialOwner` / `humanPerformer` into the task's extensions as `resourceOwner`."""

    def parse_extensions(self, node=None):
        extensions = super().parse_extensions(node)
        owner = _resource_owner(self.node if node is None else node)
        if owner:
            extensions["resourceOwner"] = owner
        return extensions


class _OwnedUserTaskParser(_OwnedTaskParser, UserTaskParser):
    pass


CAMUNDA_DECISION_REF = "{http://camunda.org/schema/1.0/bpmn}decisionRef"


class _DecisionTaskParser(BusinessRuleTaskParser):
    """Business-rule tasks name their decision with `spiffworkflow:calledDecisionId`, or (as
    Camunda Modeler writes it) with `camunda:decisionRef`."""

    @staticmethod
    def get_decision_ref(node):
        return BusinessRuleTaskParser.get_decision_ref(node) or node.get(CAMUNDA_DECISION_REF)


class TicketflowParser(SpiffBpmnParser):
    """The Spiff parser (it reads spiffworkflow: extensions) with parked service tasks, and
    user and manual tasks that keep their resource assignment (potentialOwner, humanPerformer)."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, ParkedServiceTask),
        full_tag("userTask"): (_OwnedUserTaskParser, UserTask),
        full_tag("manualTask"): (_OwnedTaskParser, ManualTask),
        full_tag("businessRuleTask"): (_DecisionTaskParser, BusinessRuleTask),
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
            value = utc_timer_value(kind, value)
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


def catches_of(task) -> list[tuple[Any, Any]]:
    """What a catching task waits for: (event definition, task spec of the BPMN element showing it).

    An event-based gateway takes over the definitions of the catch events behind it (they are
    left with none), so each of its definitions is paired with its catch event, in flow order.
    """
    return spec_catches(task.task_spec)


def spec_catches(spec) -> list[tuple[Any, Any]]:
    """`catches_of` for a task spec: (event definition, element spec) pairs it waits for."""
    definition = getattr(spec, "event_definition", None)
    if isinstance(spec, EventBasedGateway) and isinstance(definition, MultipleEventDefinition):
        return list(zip(definition.event_definitions, spec.outputs, strict=True))
    return [(definition, spec)]


def timer_catch(task):
    """(timer definition, element spec) a catching task waits for, or None."""
    return next(((d, el) for d, el in catches_of(task) if isinstance(d, TimerEventDefinition)), None)


def message_catch(task, name: str):
    """(message definition, element spec) for a message of this name the task waits for, or None."""
    return next(((d, el) for d, el in catches_of(task)
                 if isinstance(d, MessageEventDefinition) and d.name == name), None)


def catch_one(task, event) -> bool:
    """Let this one waiting task catch an event (Spiff's own `catches` check decides).

    `BpmnWorkflow.send_event` hands the event to every task of the workflow that catches it;
    a routed message is meant for the one catch event it was routed to.
    """
    if not task.task_spec.catches(task, event):
        return False
    task.task_spec.catch(task, event)
    task.task_spec._update(task)  # what the library's EventManager.catch does after catch()
    return True


def utc_timer_value(kind: str, value: str) -> str:
    """A checked timer value with each date in it written as aware UTC; a naive date is UTC.

    SpiffWorkflow reads a naive date in the machine's zone (its LOCALTZ, fixed at import), so
    the same diagram would fire at different instants on differently configured machines.
    """
    if kind == "date":
        return _utc_date(value)
    if kind == "cycle":  # R<n>/<start>/<duration>, R<n>/<duration>/<end>, R<n>/<duration>
        parts = value.replace("--", "/").split("/")
        return "/".join(p if p.upper().startswith(("R", "P")) else _utc_date(p) for p in parts)
    return value


def _utc_date(text: str) -> str:
    week = re.fullmatch(r"(\d{4})-?W(\d{2})-?(\d)(T.+)?", text.strip(), re.IGNORECASE)
    try:
        if week:
            day = date.fromisocalendar(int(week[1]), int(week[2]), int(week[3]))
            when = datetime.fromisoformat(day.isoformat() + (week[4] or "").upper())
        else:
            when = datetime.fromisoformat(text.strip())
    except ValueError:  # a form only the library reads: leave it to the library
        return text
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()


def timer_due(task) -> datetime | None:
    """When a WAITING timer catch event (or event-based gateway) is due (aware UTC), or None."""
    definition = (timer_catch(task) or (None,))[0]
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


def cycle_state(task) -> tuple[int, float] | None:
    """(rounds left, period in seconds) of a waiting cycle timer; None otherwise or when done."""
    value = task.internal_data.get("event_value")
    return (value["cycles"], value["duration"]) if isinstance(value, dict) else None


def keep_cycle_schedule(task, due: datetime) -> None:
    """After a forced cycle round, put the next round one period after `due`, where it belongs."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict) and value.get("cycles"):
        value["next"] = (due + timedelta(seconds=value["duration"])).isoformat()


def json_safe(value: Any) -> Any:
    """Round-trip a value through JSON with the serializer's encoder (datetimes etc.)."""
    return json.loads(json.dumps(value, cls=SERIALIZER._encoder_cls))


def reattach_triggered(wf: BpmnWorkflow) -> None:
    """Put back what triggering did to a spec, on a loaded instance's own copy of it.

    SpiffWorkflow 3.2 connects a workflow's start task to an event subprocess or a message-started
    pool the first time it is triggered (`BpmnStartTask.trigger_wf`); the stored instance keeps
    the triggered task but not that connection, which a fresh copy of the spec lacks.
    """
    for workflow in (wf, *wf.subprocesses.values()):
        root = workflow.task_tree
        start = root.task_spec
        for child in root.children:
            spec = child.task_spec
            if spec not in start.outputs:
                start.connect(spec)
                if workflow.spec.end not in spec.outputs:
                    spec.connect(workflow.spec.end)


def trigger_catches(wf: BpmnWorkflow) -> list[tuple[str, Any, Any]]:
    """Messages that start something in a running workflow without a waiting task: the message
    start events of its event subprocesses and of the message-started pools of a collaboration.

    Returns (stable id for this workflow and start event, message definition, start event spec).
    """
    if not wf.spec.start.trigger_specs or wf.is_completed():
        return []
    found = []
    for name in wf.spec.start.trigger_specs:
        sub_spec = wf.subprocess_specs.get(name)
        for start in getattr(sub_spec, "bpmn_start_events", []) if sub_spec is not None else []:
            definition = getattr(start, "event_definition", None)
            if isinstance(definition, MessageEventDefinition):
                found.append((str(uuid5(wf.task_tree.id, f"trigger/{name}/{start.name}")), definition, start))
    return found
