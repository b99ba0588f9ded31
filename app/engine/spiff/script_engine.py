"""The script engine every diagram expression runs through (the safe, whitelisted evaluator)."""

import ast
from functools import lru_cache

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.engine.expressions import ExpressionError, SafeEnvironment, check_timer_value, timer_kind_for
from app.engine.spiff.instances import check_instances, is_cardinality
from app.engine.spiff.timers import utc_timer_value

MAX_EXPRESSION = 2000


class TicketflowScriptEngine(PythonScriptEngine):
    """Evaluates every diagram expression through the safe, whitelisted environment."""

    def __init__(self):
        super().__init__(environment=SafeEnvironment())

    def validate(self, expression):
        if len(expression) > MAX_EXPRESSION:  # DMN cells reach ast.parse unchecked
            raise SyntaxError(f"expression longer than {MAX_EXPRESSION} characters")
        _parses(expression)

    def evaluate(self, task, expression, external_context=None):
        try:
            value = self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as exc:
            raise WorkflowTaskException(f"{exc} (in '{expression}')", task=task, exception=exc) from exc
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            raise WorkflowTaskException(
                f"{type(exc).__name__}: {exc} (in '{expression}')", task=task, exception=exc
            ) from exc
        kind = timer_kind_for(task, expression)
        if kind is not None:  # a huge duration from data would make the library loop for hours
            try:
                check_timer_value(kind, value)
            except ExpressionError as exc:
                raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc
            value = utc_timer_value(kind, value)
        elif is_cardinality(task, expression):  # before SpiffWorkflow creates the instances
            check_instances(task, value, f"loopCardinality '{expression}'")
        return value

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        raise RuntimeError("service tasks are parked as jobs, never called inline")


@lru_cache(maxsize=4096)
def _parses(expression: str) -> bool:
    """Python parses the expression (raises SyntaxError otherwise; only successes are remembered):
    the DMN engine asks this of every cell it evaluates, three times, on every evaluation."""
    ast.parse(expression)
    return True


SCRIPT_ENGINE = TicketflowScriptEngine()
