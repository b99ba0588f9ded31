"""Safe diagram expressions: the environment our script engine runs every expression through.

SpiffWorkflow evaluates gateway conditions, timers, payloads, correlations, service parameters,
loop settings, DMN cells and scripts by handing their text to its script engine's environment,
and some call sites reach the environment directly. `SafeEnvironment` replaces the stock
`eval`/`exec` one with a whitelisted, budgeted evaluator, and `lint_specs` runs the same checks
on a diagram at deploy time.

The pieces live in:
    expression_policy: limits, allowed syntax, functions and methods, the exceptions.
    expression_compiler: parse, whitelist, constant dry run, guard rewrite (`compile_safe`).
    expression_guards: budgets, guards, whitelisted functions, result checks.
    expression_runtime: `evaluate_safe`, `execute_safe`, timer value checks.
    expression_lint: `lint_specs` over parsed specs.

Wiring: `PythonScriptEngine(environment=SafeEnvironment())`; a subclass of the engine should
also call `check_timer_value(timer_kind_for(task, expression), value)` in `evaluate`.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from app.engine.expression_compiler import CompiledExpression, compile_safe
from app.engine.expression_lint import ExpressionSlot, iter_expression_slots, lint_specs
from app.engine.expression_policy import (
    EXPRESSION_LIMITS,
    FUNCTIONS,
    METHOD_NAMES,
    SCRIPT_LIMITS,
    ExpressionError,
    ExpressionLimitError,
    Limits,
)
from app.engine.expression_runtime import (
    check_timer_value,
    evaluate_safe,
    execute_safe,
    timer_kind_for,
)
from app.engine.expression_values import check_value

__all__ = [
    "EXPRESSION_LIMITS",
    "FUNCTIONS",
    "METHOD_NAMES",
    "SCRIPT_LIMITS",
    "CompiledExpression",
    "ExpressionError",
    "ExpressionLimitError",
    "ExpressionSlot",
    "Limits",
    "SafeEnvironment",
    "check_timer_value",
    "check_value",
    "compile_safe",
    "evaluate_safe",
    "execute_safe",
    "iter_expression_slots",
    "lint_specs",
    "timer_kind_for",
]


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that only runs whitelisted, budgeted code.

    Same contract as TaskDataEnvironment in SpiffWorkflow 3.2.0: `evaluate` returns the value of
    an expression over external context and task data; `execute` runs a script that changes
    task data in place and returns True. Differences: code outside the whitelist is refused,
    guards stop runaway CPU and memory, values must be plain data, expressions cannot change
    task data, and a failing script leaves task data as it was.
    """

    def __init__(self) -> None:
        super().__init__(environment_globals={})

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Evaluate an expression; see `evaluate_safe`."""
        return evaluate_safe(expression, context, external_context)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run a script on task data (`context`), in place; see `execute_safe`."""
        execute_safe(script, context, external_context)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        """Services are the script engine's business; the environment never calls out."""
        raise NotImplementedError("service calls are handled by the script engine")
