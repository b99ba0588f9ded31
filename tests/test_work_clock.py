"""The clock the engine's and the expressions' time limits run on counts a ticket's own work only.

A 0.5 s limit on the engine steps of one command (MAX_ENGINE_SECONDS) measured in wall time
halted ordinary tickets with an incident whenever the process paused: a full collection of a
large heap, another thread holding the GIL, a busy machine. `work_seconds` leaves those out.
"""

import gc
import threading
import time

from app.work_clock import work_seconds


def _cycles(n: int) -> None:
    for _ in range(n):
        a, b = [], []
        a.append(b)
        b.append(a)


def test_a_garbage_collection_is_not_counted():
    gc.disable()
    try:
        _cycles(300_000)
        work, cpu = work_seconds(), time.thread_time()
        gc.collect()
        collected_cpu = time.thread_time() - cpu
        counted = work_seconds() - work
    finally:
        gc.enable()
    assert collected_cpu > 0.01  # the collection did take time
    assert counted < collected_cpu / 10


def test_waiting_for_another_thread_is_not_counted():
    released = threading.Event()
    worker = threading.Thread(target=lambda: (_spin(0.2), released.set()))
    before = work_seconds()
    worker.start()
    released.wait(timeout=10)  # this thread waits while the other one works
    worker.join()
    assert work_seconds() - before < 0.05


def test_work_is_counted():
    before = work_seconds()
    _spin(0.05)
    assert work_seconds() - before >= 0.04


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
