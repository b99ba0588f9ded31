"""`SafeEnvironment`: SpiffWorkflow's script environment, running only whitelisted, budgeted code."""

from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from app.engine.expressions.runtime import evaluate_safe, execute_safe


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
