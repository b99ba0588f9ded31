"""Timing samples and SQL statement counting shared by every benchmark."""

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import event


@dataclass
class Sample:
    """Durations (seconds) of calls of one operation, and the wall time they took together."""

    durations: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU time per call (serial runs)
    wall: float | None = None  # set when calls overlap (concurrent clients) or were not timed one by one
    calls: int | None = None  # set when only the total was timed (no median, no p95)
    errors: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return self.calls if self.calls is not None else len(self.durations)

    @property
    def per_second(self) -> float:
        """Calls per second: count / wall time when concurrent, else 1 / mean call time."""
        elapsed = self.wall if self.wall is not None else sum(self.durations)
        return self.count / elapsed if elapsed else 0.0

    @property
    def mean_ms(self) -> float:
        return 1000 / self.per_second if self.per_second else 0.0

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.durations) * 1000 if self.durations else None

    @property
    def cpu_median_ms(self) -> float | None:
        """Median CPU time of this process per call: steadier than wall time on a shared machine."""
        return statistics.median(self.cpu) * 1000 if self.cpu else None

    @property
    def p99_ms(self) -> float | None:
        if len(self.durations) < 2:
            return self.median_ms
        return statistics.quantiles(self.durations, n=100, method="inclusive")[98] * 1000

    @property
    def p95_ms(self) -> float | None:
        if len(self.durations) < 2:
            return self.median_ms
        return statistics.quantiles(self.durations, n=20, method="inclusive")[18] * 1000


def timed(calls: Iterable, fn: Callable, before: Callable | None = None) -> tuple[Sample, list]:
    """Call `fn(item)` for each item, timing each call alone; `before()` runs untimed first.

    Returns:
        The sample and the list of results.
    """
    sample, results = Sample(), []
    for item in calls:
        if before is not None:
            before()
        started, cpu_started = time.perf_counter(), time.process_time()
        results.append(fn(item))
        sample.durations.append(time.perf_counter() - started)
        sample.cpu.append(time.process_time() - cpu_started)
    return sample, results


class QueryCounter:
    """Count the SQL statements an engine sends, via `before_cursor_execute`."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def __enter__(self) -> "QueryCounter":
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, _params, _context, _executemany) -> None:
        self.statements.append(statement)

    def breakdown(self, calls: int = 1) -> str:
        """'14 (1 BEGIN, 5 SELECT, 6 INSERT, 2 UPDATE)' per call."""
        kinds = Counter(_kind(s) for s in self.statements)
        parts = ", ".join(f"{_number(n / calls)} {kind}" for kind, n in kinds.most_common())
        return f"{_number(len(self.statements) / calls)} ({parts})"


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _kind(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper() if words else "?"
    if verb == "SELECT" and "FOR UPDATE" in statement.upper():
        return "SELECT FOR UPDATE"
    return verb
