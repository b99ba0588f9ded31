"""Running compiled diagram code in fresh namespaces, and checking what timers evaluate to.

`evaluate_safe` and `execute_safe` give the semantics of SpiffWorkflow's TaskDataEnvironment
(an expression sees external context and task data; a script changes task data) on top of
`compile_safe` and a fresh `Budget` per call. `check_timer_value` is the semantic check the
script engine applies to timer results, which Spiff would otherwise loop over month by month.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from app.engine.expressions.compiler import CompiledExpression, compile_safe, shorten
from app.engine.expressions.guards import Budget
from app.engine.expressions.policy import FUNCTIONS, ExpressionError
from app.engine.expressions.values import check_value

MAX_TIMER_MONTHS = 120
MIN_CYCLE_SECONDS = 60
MAX_CYCLE_REPETITIONS = 1_000
MAX_TIMER_TEXT = 200
_DAYS_PER_MONTH = 365.25 / 12
_DAYS_PER_UNIT = {
    "years": 365.25, "months": _DAYS_PER_MONTH, "weeks": 7.0, "days": 1.0,
    "hours": 1 / 24, "minutes": 1 / 1440, "seconds": 1 / 86400,
}  # fmt: skip
TIMER_KINDS = {
    TimeDateEventDefinition: "date",
    DurationTimerEventDefinition: "duration",
    CycleTimerEventDefinition: "cycle",
}


def _namespace(compiled: CompiledExpression, data: dict, external_context: dict | None) -> dict:
    """External context, then task data, then this call's functions and guards, no builtins."""
    namespace = dict(external_context) if external_context else {}
    namespace.update(data)
    namespace.update(Budget(compiled.limits).bindings(compiled.bindings))
    namespace["__builtins__"] = {}
    return namespace


def evaluate_safe(expression: str, context: dict, external_context: dict | None = None) -> Any:
    """Evaluate a diagram expression against task data.

    Args:
        expression: The expression text (a gateway condition, timer, payload, DMN cell...).
        context: Task data; read only (expressions cannot call mutating methods).
        external_context: Extra names (Spiff passes `data_objects` or `dmninputexpr`); task data
            wins over them, and the functions the expression calls win over both.

    Returns:
        The value, which is plain bounded data (see `check_value`).

    Raises:
        ExpressionError: The expression is refused (at compile time or by a run-time guard,
            then as `ExpressionLimitError`), or its value is not plain data.
        Exception: Ordinary Python errors of the expression itself (NameError, KeyError...).
    """
    compiled = compile_safe(expression, "eval")
    try:
        return check_value(eval(compiled.code, _namespace(compiled, context, external_context)))
    except ExpressionError as exc:
        message = f"{exc} in expression '{shorten(expression)}'"
        raise type(exc)(message).with_traceback(exc.__traceback__) from None


def execute_safe(script: str, context: dict, external_context: dict | None = None) -> None:
    """Run a diagram script on a copy of task data; write the copy back only if all went well.

    Args:
        script: The script text (script task, preScript or postScript).
        context: Task data, updated in place on success (new, changed and deleted variables).
        external_context: Extra names visible to the script (as a copy) but never written to
            task data.

    Raises:
        ExpressionError: The script is refused, stopped by a guard, or leaves data that is not
            plain bounded data. Task data is then unchanged.
        Exception: Ordinary Python errors of the script; task data is then unchanged.
    """
    compiled = compile_safe(script, "exec")
    external = copy.deepcopy(external_context) if external_context else None
    namespace = _namespace(compiled, copy.deepcopy(context), external)
    try:
        exec(compiled.code, namespace)
    except ExpressionError as exc:
        message = f"{exc} in script '{shorten(script)}'"
        raise type(exc)(message).with_traceback(exc.__traceback__) from None
    updated = {}
    for key, value in namespace.items():
        if key.startswith("_") or key in FUNCTIONS:
            continue  # guards, temporaries, functions: user code cannot have set these
        if external_context and key in external_context and key not in context:
            continue
        updated[key] = value
    for key, value in context.items():
        if key.startswith("_") or key in FUNCTIONS:
            updated[key] = value  # scripts cannot assign these names: keep the data's own value
    try:
        check_value(updated, "task data after the script")
    except ExpressionError as exc:
        raise ExpressionError(f"{exc} in script '{shorten(script)}'") from None
    for key in [key for key in context if key not in updated]:
        del context[key]
    context.update(updated)


def check_timer_value(kind: str, value: Any) -> None:
    """Check what a timer expression evaluated to before SpiffWorkflow schedules it.

    Args:
        kind: "date" (timeDate), "duration" (timeDuration) or "cycle" (timeCycle).
        value: The evaluated expression.

    Raises:
        ExpressionError: The value is not an ISO-8601 string of that kind, a duration is longer
            than 120 months, or a cycle repeats more often than every 60 s or more than 1000
            times (or without a count).
    """
    if kind not in ("date", "duration", "cycle"):
        raise ValueError(f"unknown timer kind {kind!r}")
    if not isinstance(value, str):
        raise ExpressionError(f"timer {kind} must be an ISO-8601 string, not {type(value).__name__}")
    if len(value) > MAX_TIMER_TEXT:
        raise ExpressionError(f"timer {kind} is longer than {MAX_TIMER_TEXT} characters")
    if kind == "duration":
        _check_duration(value)
    elif kind == "date":
        _check_date(value)
    else:
        _check_cycle(value)


def _check_duration(text: str, what: str = "timer duration") -> None:
    if not text.upper().startswith("P"):
        raise ExpressionError(f"{what} '{text}' is not an ISO-8601 duration like 'PT48H'")
    try:
        parts = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # noqa: BLE001 - Spiff raises a bare Exception for bad durations
        raise ExpressionError(f"{what} '{text}' is not an ISO-8601 duration like 'PT48H'") from None
    days = sum(_DAYS_PER_UNIT[unit] * amount for unit, amount in parts.items())
    if days > MAX_TIMER_MONTHS * _DAYS_PER_MONTH:
        raise ExpressionError(f"{what} '{text}' is longer than {MAX_TIMER_MONTHS} months")


def _check_date(text: str, what: str = "timer date") -> None:
    if text.upper().startswith("P"):
        raise ExpressionError(f"{what} '{text}' is a duration, not a date")
    try:
        TimerEventDefinition.parse_time_or_duration(text)
    except Exception:  # noqa: BLE001 - fromisoformat, fromisocalendar and regex errors alike
        raise ExpressionError(f"{what} '{text}' is not an ISO-8601 date-time") from None


def _check_cycle(text: str) -> None:
    # Same splitting as Spiff's parse_iso_recurring_interval, so durations are checked before
    # Spiff walks them month by month.
    parts = text.upper().replace("--", "/").strip("R").split("/")
    if not text.upper().startswith("R") or len(parts) not in (2, 3):
        raise ExpressionError(f"timer cycle '{text}' is not an ISO-8601 cycle like 'R3/PT1H'")
    if not parts[0].isdigit():
        raise ExpressionError(
            f"timer cycle '{text}' must give a repetition count of at most {MAX_CYCLE_REPETITIONS}"
        )
    for part in parts[1:]:
        if part.startswith("P"):
            _check_duration(part, f"timer cycle '{text}': duration")
        else:
            _check_date(part, f"timer cycle '{text}': date")
    try:
        cycles, _start, interval = TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception:  # noqa: BLE001 - Spiff raises a bare Exception for bad intervals
        raise ExpressionError(f"timer cycle '{text}' is not an ISO-8601 cycle like 'R3/PT1H'") from None
    if cycles > MAX_CYCLE_REPETITIONS:
        raise ExpressionError(
            f"timer cycle '{text}' repeats {cycles} times; at most {MAX_CYCLE_REPETITIONS} allowed"
        )
    if interval.total_seconds() < MIN_CYCLE_SECONDS:
        raise ExpressionError(
            f"timer cycle '{text}' repeats every {interval.total_seconds():g} s; "
            f"the minimum is {MIN_CYCLE_SECONDS} s"
        )


def timer_kind_for(task: Any, expression: str) -> str | None:
    """Which timer kind `expression` is for on this task, or None if it is not a timer's.

    The script engine calls this in `evaluate` to know when to apply `check_timer_value`.

    Args:
        task: The SpiffWorkflow task being evaluated for.
        expression: The expression text being evaluated.

    Returns:
        "date", "duration" or "cycle" when the task's event definition (or one of a multiple
        event's definitions) is a timer with exactly this expression, else None.
    """
    definition = getattr(task.task_spec, "event_definition", None)
    definitions = (
        definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    )
    for item in definitions:
        kind = _timer_kind(type(item))
        if kind is not None and item.expression == expression:
            return kind
    return None


@cache
def _timer_kind(cls: type) -> str | None:
    """The timer kind of an event definition class (a subclass counts as its timer class)."""
    kind = TIMER_KINDS.get(cls)
    if kind is None:
        kind = next((k for timer, k in TIMER_KINDS.items() if issubclass(cls, timer)), None)
    return kind
