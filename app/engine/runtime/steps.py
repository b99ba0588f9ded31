"""Running SpiffWorkflow code inside a command: a library failure becomes `StepFailed` naming the element."""

import logging
import re
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.engine.errors import StepFailed
from app.engine.expressions import ExpressionError
from app.engine.runtime.store import Loaded

log = logging.getLogger(__name__)


def engine_step(loaded: Loaded, action: Callable[[], Any]) -> Any:
    """Run SpiffWorkflow code; turn its failures into StepFailed naming the element.

    A condition or script that reads a name the process data does not have (NameError,
    KeyError) is named too: StepFailed.missing.
    """
    try:
        return action()
    except (SpiffWorkflowException, ExpressionError) as exc:
        task = getattr(exc, "task", None)
        element_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        message = getattr(exc, "message", None) or str(exc)
        missing = _missing_name(exc, message)
        if missing is not None:
            message = f"needs '{missing}', which the process data does not have ({message.strip()})"
        raise StepFailed(element_id, f"{element_id or 'process'}: {message}", missing=missing) from exc
    except (NameError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError, LookupError) as exc:
        # A few library paths evaluate diagram content without wrapping its errors (e.g. a
        # processVariableCorrelation expression): still the diagram's or the data's fault.
        log.info("engine step failed outside SpiffWorkflow's error handling", exc_info=True)
        task = _failing_task(exc)
        element_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        missing = exc.name if isinstance(exc, NameError) and getattr(exc, "name", None) else None
        missing = missing or _missing_collection(task)
        detail = (
            f"needs '{missing}', which the process data does not have"
            if missing
            else f"{type(exc).__name__}: {exc}"
        )
        raise StepFailed(element_id, f"{element_id or 'process'}: {detail}", missing=missing) from exc


def _failing_task(exc: BaseException):
    """The SpiffWorkflow task whose code raised (the innermost frame holding `my_task`)."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("my_task")
        if getattr(getattr(candidate, "task_spec", None), "bpmn_id", None):
            found = candidate
        tb = tb.tb_next
    return found


def _missing_collection(task) -> str | None:
    """The collection a multi-instance task iterates, when the data does not have it."""
    data_input = getattr(getattr(task, "task_spec", None), "data_input", None)
    name = getattr(data_input, "bpmn_id", None) or getattr(data_input, "name", None)
    return name if name and name not in (task.data or {}) else None


_NAME_ERROR = re.compile(r"name '([^']+)' is not defined")
_KEY_ERROR = re.compile(r"KeyError:\s*'?([^'\s]+)'?")


def _missing_name(exc: Exception, message: str) -> str | None:
    """The variable or key a failed expression looked for, when that is why it failed."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, NameError) and getattr(cause, "name", None):
        return cause.name
    if isinstance(cause, KeyError) and cause.args and isinstance(cause.args[0], str):
        return cause.args[0]
    kind = getattr(exc, "error_type", None)
    found = _NAME_ERROR.search(message) if kind in (None, "NameError") else None
    if found is None and kind == "KeyError":
        found = _KEY_ERROR.search(message)
    return found.group(1) if found else None
