"""Safe diagram expressions: the environment our script engine runs every expression through.

SpiffWorkflow evaluates gateway conditions, timers, payloads, correlations, service parameters,
loop settings, DMN cells and scripts by handing their text to its script engine's environment,
and some call sites reach the environment directly. `SafeEnvironment` replaces the stock
`eval`/`exec` one with a whitelisted, budgeted evaluator, and `lint_specs` runs the same checks
on a diagram at deploy time.

This package is the evaluator's door: the rest of the engine imports these names from
`app.engine.expressions`, never from its modules. The pieces live in:
    policy: limits, allowed syntax, functions and methods, the exceptions.
    compiler: parse, whitelist, constant dry run, guard rewrite (`compile_safe`).
    rewrite: the AST rewrite that routes operators through the guards.
    guards: budgets and guarded operators (`Budget`); builtins: the whitelisted functions.
    values: result checks (plain, bounded data).
    runtime: `evaluate_safe`, `execute_safe`, timer value checks.
    environment: `SafeEnvironment`, SpiffWorkflow's script environment over the above.
    lint: `lint_specs` over parsed specs.
    templates: task instructions (Jinja2) on the same budget (`render_bounded`, `check_template`).

Wiring: `PythonScriptEngine(environment=SafeEnvironment())`; a subclass of the engine should
also call `check_timer_value(timer_kind_for(task, expression), value)` in `evaluate`.
"""

from __future__ import annotations

from app.engine.expressions.compiler import CompiledExpression, compile_safe
from app.engine.expressions.environment import SafeEnvironment
from app.engine.expressions.lint import ExpressionSlot, iter_expression_slots, lint_specs
from app.engine.expressions.policy import (
    EXPRESSION_LIMITS,
    FUNCTIONS,
    METHOD_NAMES,
    SCRIPT_LIMITS,
    ExpressionError,
    ExpressionLimitError,
    Limits,
)
from app.engine.expressions.runtime import (
    check_timer_value,
    evaluate_safe,
    execute_safe,
    timer_kind_for,
)
from app.engine.expressions.templates import TEMPLATE_LIMITS, check_template, render_bounded
from app.engine.expressions.values import check_value

__all__ = [
    "EXPRESSION_LIMITS",
    "FUNCTIONS",
    "METHOD_NAMES",
    "SCRIPT_LIMITS",
    "TEMPLATE_LIMITS",
    "CompiledExpression",
    "ExpressionError",
    "ExpressionLimitError",
    "ExpressionSlot",
    "Limits",
    "SafeEnvironment",
    "check_template",
    "check_timer_value",
    "check_value",
    "compile_safe",
    "evaluate_safe",
    "execute_safe",
    "iter_expression_slots",
    "lint_specs",
    "render_bounded",
    "timer_kind_for",
]
