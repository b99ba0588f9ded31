"""Running SpiffWorkflow code inside a command: a library failure becomes `StepFailed` naming the element.

`run_engine` runs the engine's steps within bounds, with the service tasks whose handlers run
inline (`inline`) completed on the way: at most MAX_ENGINE_STEPS steps and
MAX_ENGINE_SECONDS of them per command, counted on `app.work_clock` (this thread's CPU outside the
garbage collector: a loaded machine or a long collection never halts a ticket that did little;
SpiffWorkflow walks the whole task tree at every step, so a loop's steps get slower as it
deepens), and a step that overruns a budget (an expression's, a template's, a multi-instance cap) halts
the instance with an incident (`halts`) instead of failing the whole command.
"""

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from app.engine.errors import StepFailed
from app.engine.expressions import ExpressionError, ExpressionLimitError
from app.engine.runtime.halts import Halt
from app.engine.runtime.inline import next_inline_task, run_inline
from app.engine.runtime.projections import all_tasks
from app.engine.runtime.store import Loaded
from app.work_clock import work_seconds

DEFAULT_MAX_ENGINE_STEPS = 10_000
DEFAULT_MAX_ENGINE_SECONDS = 0.5


class _StepLimitReached(Exception):
    def __init__(self, task, reason: str):
        super().__init__(reason)
        self.task = task
        self.reason = reason


def run_engine(loaded: Loaded, first: Callable[[], Any] | None = None, *, rerun_failed: bool = False) -> None:
    """Run the workflow's engine steps until it waits, within MAX_ENGINE_STEPS steps and
    MAX_ENGINE_SECONDS (a step under way finishes; its own code has its own budget).

    A limit reached (the step count, a budget overrun of one step, a task tree SpiffWorkflow
    no longer walks) stops the engine where it is and adds a `Halt` to `loaded.halts`; `save`
    opens its incident. The workflow is consistent then: the halted task has not run.

    Args:
        first: the step the command itself takes first (completing a task), under the same rules.
        rerun_failed: first run again the tasks a halt left failed (retrying an incident).

    Raises:
        StepFailed: a step failed for another reason (a missing variable...); nothing is saved.
    """
    config = current_app.config
    limit = config.get("MAX_ENGINE_STEPS", DEFAULT_MAX_ENGINE_STEPS)
    seconds = config.get("MAX_ENGINE_SECONDS", DEFAULT_MAX_ENGINE_SECONDS)
    deadline = work_seconds() + seconds
    # This thread's CPU time never runs ahead of the wall clock: until the wall clock has passed
    # the budget, the CPU clock (a system call) need not be read.
    wall_deadline = time.perf_counter() + seconds
    steps = 0

    def count(task) -> None:
        nonlocal steps
        steps += 1
        if steps > limit:
            raise _StepLimitReached(task, f"stopped after {limit} engine steps (MAX_ENGINE_STEPS)")
        if time.perf_counter() > wall_deadline and work_seconds() > deadline:
            raise _StepLimitReached(
                task, f"stopped after {steps - 1} engine steps in {seconds:g} s (MAX_ENGINE_SECONDS)"
            )

    def steps_to_wait() -> None:
        if rerun_failed:
            for task in [t for t in all_tasks(loaded.wf) if t.state == TaskState.ERROR]:
                task.run()
        if first is not None:
            first()
        loaded.wf.do_engine_steps(will_complete_task=count)
        while (task := next_inline_task(loaded)) is not None:
            run_inline(loaded, task)
            task.complete()
            loaded.wf.do_engine_steps(will_complete_task=count)

    try:
        engine_step(loaded, steps_to_wait)
    except _StepLimitReached as reached:
        element_id = _element_of(reached.task)
        loaded.halts.append(
            Halt(
                element_id,
                f"{element_id or 'process'}: {reached.reason} without reaching a wait state; "
                "a loop in the diagram needs a task, timer or message",
            )
        )
        return
    except StepFailed as failed:
        # After an inline service task the process fails where a job's completion would have:
        # the command keeps what it did and the failing element gets an incident, as then.
        if not (_over_a_limit(failed.__cause__) or loaded.inline_done):
            raise
        loaded.halts.append(Halt(failed.element_id, failed.message))
        return
    stalled = next((t for t in _ready_engine_tasks(loaded.wf)), None)
    if stalled is not None:  # SpiffWorkflow walks task trees only 1000 levels deep
        element_id = _element_of(stalled)
        loaded.halts.append(
            Halt(
                element_id,
                f"{element_id or 'process'}: stopped after {steps} engine steps: the process loops "
                "without reaching a wait state; a loop in the diagram needs a task, timer or message",
            )
        )


def _ready_engine_tasks(wf):
    return (t for t in all_tasks(wf) if t.state == TaskState.READY and not t.task_spec.manual)


def _element_of(task) -> str | None:
    return getattr(getattr(task, "task_spec", None), "bpmn_id", None)


def _over_a_limit(exc: BaseException | None) -> bool:
    """Whether a failure is a bound being reached (a budget, a size cap) rather than a mistake."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (ExpressionLimitError, RecursionError, MemoryError)):
            return True
        inner = getattr(exc, "exception", None)
        exc = inner if isinstance(inner, BaseException) else (exc.__cause__ or exc.__context__)
        seen += 1
    return False


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
