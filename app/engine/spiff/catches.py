"""What a waiting task or workflow catches: timers and messages, and letting one task catch.

An event-based gateway waits for the definitions of the catch events behind it; an event
subprocess or a message-started pool is started by a message without any waiting task.
"""

from typing import Any
from uuid import uuid5

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway


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
    return next(
        ((d, el) for d, el in catches_of(task) if isinstance(d, MessageEventDefinition) and d.name == name),
        None,
    )


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
