"""Deploy-time linter: finds every expression and script in parsed specs and checks each one.

It walks the spec objects SpiffWorkflow built (not the XML), so it sees exactly the texts the
engine will later evaluate, including the strings DMNEngine joins from decision-table cells.
Each text goes through the same `compile_safe` as at run time; literal timers are also
evaluated and checked with `check_timer_value`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec, BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.spiff.specs.event_definitions import SpiffItemAwareEventDefinition
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask

from app.engine.expressions.compiler import compile_safe
from app.engine.expressions.policy import EXPRESSION_LIMITS, ExpressionError
from app.engine.expressions.runtime import TIMER_KINDS, check_timer_value, evaluate_safe

# DMNEngine.evaluate replaces '?' outside quotes with the input value; same pattern as 3.2.0.
_DMN_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^\'\"]|[\'\"][^\'\"]*[\'\"])*$)")


@dataclass(frozen=True)
class ExpressionSlot:
    """One text in a spec that the script engine will evaluate or execute.

    Attributes:
        element_id: BPMN (or DMN) element id, "<gateway>-><target>" for a flow condition.
        kind: What the text is, e.g. "sequenceFlow condition", "timer", "script".
        mode: "eval" or "exec".
        text: The exact text Spiff will pass to the environment.
        timer_kind: "date", "duration" or "cycle" for timer expressions, else None.
    """

    element_id: str
    kind: str
    mode: str
    text: str
    timer_kind: str | None = None


def lint_specs(spec: BpmnProcessSpec, subprocess_specs: dict) -> list[tuple[str, str]]:
    """Check every expression slot of a parsed process and its subprocesses.

    Args:
        spec: The BpmnProcessSpec from `parser.get_spec(process_id)`.
        subprocess_specs: The dict from `parser.get_subprocess_specs(process_id)`.

    Returns:
        One (element_id, message) per problem, e.g.
        ("gw1->escalate", "[sequenceFlow condition] method '.__subclasses__()' is not
        whitelisted (line 1 col 0) in expression '...'"). Empty when everything is safe.
    """
    problems: list[tuple[str, str]] = []
    for slot in iter_expression_slots(spec, subprocess_specs):
        try:
            _lint_slot(slot)
        except ExpressionError as exc:
            problem = (slot.element_id, f"[{slot.kind}] {exc}")
            if problem not in problems:
                problems.append(problem)
    return problems


def _lint_slot(slot: ExpressionSlot) -> None:
    if slot.text is None:
        raise ExpressionError("expression is empty")
    compiled = compile_safe(slot.text, slot.mode)
    if slot.timer_kind and compiled.is_constant:
        try:
            value = evaluate_safe(slot.text, {})
        except ExpressionError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. 1/0: it can never work, so report it
            raise ExpressionError(f"timer {slot.timer_kind} fails: {exc!r}") from None
        check_timer_value(slot.timer_kind, value)


def iter_expression_slots(spec: BpmnProcessSpec, subprocess_specs: dict) -> Iterator[ExpressionSlot]:
    """Yield every expression and script of a process and its subprocesses.

    Args:
        spec: The top BpmnProcessSpec.
        subprocess_specs: Subprocess and call-activity specs by id.

    Yields:
        ExpressionSlot for each text, in spec order.
    """
    for process in [spec, *subprocess_specs.values()]:
        if isinstance(process, AdHocSubprocessSpec) and process.completion_condition:
            yield ExpressionSlot(
                process.name, "ad-hoc completion condition", "eval", process.completion_condition
            )
        for task_spec in process.task_specs.values():
            yield from _task_slots(task_spec)


def _task_slots(task_spec) -> Iterator[ExpressionSlot]:
    element_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
    if isinstance(task_spec, MultiChoice):
        for condition, target in task_spec.cond_task_specs:
            if condition is not None:
                target_id = target.removesuffix(".BoundaryEventSplit")
                yield ExpressionSlot(
                    f"{element_id}->{target_id}", "sequenceFlow condition", "eval", condition.args[0]
                )
    if isinstance(task_spec, ScriptTask):
        yield ExpressionSlot(element_id, "script", "exec", task_spec.script)
    for attribute, kind in (("prescript", "preScript"), ("postscript", "postScript")):
        script = getattr(task_spec, attribute, None)
        if script is not None:
            yield ExpressionSlot(element_id, kind, "exec", script)
    if isinstance(task_spec, ServiceTask):
        for name, parameter in (task_spec.operation_params or {}).items():
            yield ExpressionSlot(element_id, f"service parameter '{name}'", "eval", parameter["value"])
    if isinstance(task_spec, StandardLoopTask) and task_spec.condition is not None:
        yield ExpressionSlot(element_id, "loop condition", "eval", task_spec.condition)
    if isinstance(task_spec, MultiInstanceTask):
        if task_spec.cardinality is not None:
            yield ExpressionSlot(element_id, "loop cardinality", "eval", task_spec.cardinality)
        if task_spec.condition is not None:
            yield ExpressionSlot(element_id, "completion condition", "eval", task_spec.condition)
    definition = getattr(task_spec, "event_definition", None)
    if definition is not None:
        yield from _event_slots(element_id, definition)
    engine = getattr(task_spec, "dmnEngine", None)
    if engine is not None:
        yield from _dmn_slots(engine.decision_table)


def _event_slots(element_id: str, definition) -> Iterator[ExpressionSlot]:
    if isinstance(definition, MultipleEventDefinition):
        for item in definition.event_definitions:
            yield from _event_slots(element_id, item)
        return
    timer_kind = next((k for cls, k in TIMER_KINDS.items() if isinstance(definition, cls)), None)
    if timer_kind is not None:
        yield ExpressionSlot(element_id, "timer", "eval", definition.expression, timer_kind)
    elif isinstance(definition, ConditionalEventDefinition):
        yield ExpressionSlot(element_id, "conditional event", "eval", definition.expression)
    elif isinstance(definition, MessageEventDefinition):
        expression = getattr(definition, "expression", None)
        if expression is not None:
            yield ExpressionSlot(element_id, "message payload", "eval", expression)
        for prop in definition.correlation_properties:
            yield ExpressionSlot(element_id, f"correlation '{prop.name}'", "eval", prop.retrieval_expression)
        for prop in getattr(definition, "process_correlations", []):
            yield ExpressionSlot(
                element_id, f"process correlation '{prop.name}'", "eval", prop.retrieval_expression
            )
    elif isinstance(definition, SpiffItemAwareEventDefinition) and definition.expression is not None:
        yield ExpressionSlot(element_id, "payload expression", "eval", definition.expression)


def _dmn_slots(table) -> Iterator[ExpressionSlot]:
    """The strings DMNEngine evaluates for a decision table, rebuilt the way it builds them."""
    for rule in table.rules:
        where = f"DMN {table.id} row {rule.row_number}"
        for entry in rule.inputEntries:
            input_expr = entry.input.expression or "None"  # no expression: Spiff uses repr(data)
            for cell in entry.lhs:
                if cell is None:
                    continue
                yield from _dmn_input_slots(entry.id, where, input_expr, cell)
        for entry in rule.outputEntries:
            if entry.text:
                yield ExpressionSlot(entry.id, f"{where} output", "eval", entry.text)


def _dmn_input_slots(entry_id: str, where: str, input_expr: str, cell: str) -> Iterator[ExpressionSlot]:
    kind = f"{where} input"
    if len(cell) > EXPRESSION_LIMITS.max_source:
        yield ExpressionSlot(entry_id, kind, "eval", cell)  # fails the length cap
        return
    match_expr = _DMN_QUESTION_MARK.sub("dmninputexpr", cell)
    if "dmninputexpr" in match_expr:
        yield ExpressionSlot(entry_id, f"{where} input expression", "eval", input_expr)
        yield ExpressionSlot(entry_id, kind, "eval", match_expr)
        return
    try:
        ast.parse(match_expr)
        needs_eq = True
    except SyntaxError:
        try:
            ast.parse(f"v {match_expr}")
        except SyntaxError:
            # Spiff fails the same way at run time; compiling the bare cell reports the error.
            yield ExpressionSlot(entry_id, kind, "eval", match_expr)
            return
        needs_eq = False
    except (ValueError, MemoryError, RecursionError):
        yield ExpressionSlot(entry_id, kind, "eval", match_expr)
        return
    joined = f"({input_expr}) == ({match_expr})" if needs_eq else input_expr + match_expr
    yield ExpressionSlot(entry_id, kind, "eval", joined)
