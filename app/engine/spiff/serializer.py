"""Storing a workflow: serialized without its spec (format 1.5 only), restored onto the cached spec.

Two thirds of a stored instance used to be its spec; the spec lives once in the definition and
is handed back on restore. A mutable spec's copy gets back the connections triggering made.
"""

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG as SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter

from app.engine.spiff.parser import ParkedServiceTask
from app.engine.spiff.script_engine import SCRIPT_ENGINE

SERIALIZER_VERSION = "1.5"


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
