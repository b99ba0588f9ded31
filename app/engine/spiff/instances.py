"""The cap on multi-instance tasks: at most MAX_MULTI_INSTANCE instances, checked before any is made.

SpiffWorkflow creates every child of a parallel multi-instance task at once, from a
`loopCardinality` expression or from an input collection; a million of them took 1.3 GB. The
script engine checks a cardinality's value (`check_instances`); an input collection is read
through `CappedCollection`, which `cap_multi_instance` puts on every multi-instance spec when a
diagram is parsed (our spec objects, the library's classes unchanged).
"""

from collections.abc import Sized

from flask import current_app
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from app.engine.expressions import ExpressionLimitError

DEFAULT_MAX_MULTI_INSTANCE = 1000


def check_instances(task, count, what: str) -> None:
    """Refuse `count` instances of the multi-instance `task` over MAX_MULTI_INSTANCE.

    Raises:
        WorkflowTaskException: naming the task, caused by an ExpressionLimitError, so the
            command halts the instance with an incident.
    """
    cap = current_app.config.get("MAX_MULTI_INSTANCE", DEFAULT_MAX_MULTI_INSTANCE)
    if isinstance(count, int) and not isinstance(count, bool) and count > cap:
        message = f"{what} asks for {count} instances; at most {cap} allowed (MAX_MULTI_INSTANCE)"
        limit = ExpressionLimitError(message)
        raise WorkflowTaskException(message, task=task, exception=limit) from limit


def is_cardinality(task, expression: str) -> bool:
    spec = task.task_spec
    return (
        isinstance(spec, MultiInstanceTask)
        and spec.cardinality is not None
        and spec.cardinality == expression
    )


class CappedCollection:
    """A multi-instance task's input collection (a data reference), refused over the cap."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        if name == "inner":  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.inner, name)

    def get(self, my_task):
        value = self.inner.get(my_task)
        if isinstance(value, Sized):
            check_instances(my_task, len(value), f"input collection '{self.inner.bpmn_id}'")
        return value


def cap_multi_instance(process_specs) -> None:
    """Read the input collection of every multi-instance task of these specs through the cap."""
    for process_spec in process_specs:
        for task_spec in process_spec.task_specs.values():
            if isinstance(task_spec, MultiInstanceTask) and task_spec.data_input is not None:
                if not isinstance(task_spec.data_input, CappedCollection):
                    task_spec.data_input = CappedCollection(task_spec.data_input)
