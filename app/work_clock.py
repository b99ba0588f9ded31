"""The clock an evaluation's time limit is measured on: this thread's CPU, less the collector's.

A diagram's expression, script or template may take EXPRESSION/SCRIPT/TEMPLATE limits' seconds of
work. Wall time is the wrong measure of that work: under load another thread holds the GIL or
another process the core, and a full collection of a large heap (a long-lived worker, a test run)
can pause the thread for a second, so the same expression would fail only on a busy machine.
`time.thread_time()` counts only the CPU this thread was given; the garbage collector's share of
it, which the evaluation did not cause alone, is measured by `gc.callbacks` per thread (the
thread that triggers a collection runs it) and taken off.
"""

import gc
import threading
import time

_collector = threading.local()


def _on_collection(phase: str, info: dict) -> None:
    if phase == "start":
        _collector.started = time.thread_time()
        return
    started = getattr(_collector, "started", None)
    if started is not None:
        _collector.spent = getattr(_collector, "spent", 0.0) + time.thread_time() - started
        _collector.started = None


if _on_collection not in gc.callbacks:
    gc.callbacks.append(_on_collection)


def work_seconds() -> float:
    """Seconds of CPU this thread has spent outside the garbage collector (only differences count)."""
    return time.thread_time() - getattr(_collector, "spent", 0.0)
