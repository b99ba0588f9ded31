"""The budget of one evaluation: operation, memory and time accounting, and the kinds of plain values.

Every guard and whitelisted function charges the budget of the evaluation it belongs to
(`guards.Budget`); nothing here uses threads or signals: time is checked every few ticks, on
`app.work_clock.work_seconds` (this thread's CPU less the collector's, so load and pauses that are not
the evaluation's own work never fail it).
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import sys
import uuid
from collections.abc import Sized
from typing import Any

from app.engine.expressions.policy import ELEMENTS_PER_OP, ExpressionError, ExpressionLimitError, Limits
from app.work_clock import work_seconds

SEQUENCES = (str, list, tuple)
CONTAINERS = (list, tuple, dict, set, frozenset)
# Inert values SpiffWorkflow's serializer may have put in task data; user code cannot make them,
# but they may pass through as plain data.
DATES = (datetime.date, datetime.timedelta)  # datetime.datetime is a date
INERT = (datetime.date, datetime.time, datetime.timedelta, decimal.Decimal, uuid.UUID)
SCALARS = (str, int, float, bool, type(None), *INERT)
CLOCK_EVERY = 16  # ticks between two readings of the clock (a reading costs ~0.2 µs, a tick ~0.05)


class Accounting:
    """One evaluation's operation and memory budget and its deadline."""

    __slots__ = ("_limits", "_ops", "_alloc", "_deadline", "_until_clock")

    def __init__(self, limits: Limits, deadline: float | None = None) -> None:
        self._limits = limits
        self._ops = 0
        self._alloc = 0
        self._deadline = work_seconds() + limits.seconds if deadline is None else deadline
        self._until_clock = CLOCK_EVERY

    @property
    def deadline(self) -> float:
        """The `work_seconds()` value after which the next clock reading fails."""
        return self._deadline

    # -- accounting ------------------------------------------------------------------------

    def tick(self, /) -> bool:
        self._ops += 1
        if self._ops > self._limits.max_ops:
            raise ExpressionLimitError(f"operation budget ({self._limits.max_ops}) exceeded")
        self._until_clock -= 1
        if self._until_clock <= 0:
            self._until_clock = CLOCK_EVERY
            if work_seconds() > self._deadline:
                raise ExpressionLimitError(f"time limit ({self._limits.seconds * 1000:.0f} ms) exceeded")
        return True

    def rethrow(self, /) -> None:
        """Called first in every `except:` of a script: only the script's own errors (a
        missing key, a bad conversion) may be handled; the evaluator's limits and refusals,
        and anything not an ordinary Exception, go on up."""
        exc = sys.exc_info()[1]
        if (
            isinstance(exc, ExpressionError)
            or not isinstance(exc, Exception)
            or isinstance(exc, (MemoryError, RecursionError))
        ):
            raise exc
        self.tick()

    def _work(self, elements: int) -> None:
        self._ops += elements // ELEMENTS_PER_OP
        self._until_clock = 1  # bulk work: read the clock now
        self.tick()

    def _grow(self, elements: int) -> None:
        limits = self._limits
        if elements > limits.max_len:
            raise ExpressionLimitError(f"result of {elements} elements exceeds {limits.max_len}")
        self._alloc += elements
        if self._alloc > limits.max_alloc:
            raise ExpressionLimitError(f"allocation budget ({limits.max_alloc} elements) exceeded")
        self._work(elements)

    def _check_int(self, value: Any) -> Any:
        if type(value) is int and value.bit_length() > self._limits.max_int_bits:
            raise ExpressionLimitError(
                f"integer result of ~{value.bit_length()} bits exceeds {self._limits.max_int_bits}"
            )
        return value

    def _check_key(self, key: Any) -> None:
        if key is not None and getattr(key, "__self__", None) is not self:
            raise ExpressionError("key= must name a whitelisted function")

    def _materialize(self, iterable: Any) -> list:
        """A new list of the items, refused when it would pass the size cap."""
        if isinstance(iterable, Sized):
            self._grow(len(iterable))
            return list(iterable)
        items = list(itertools.islice(iterable, self._limits.max_len + 1))
        if len(items) > self._limits.max_len:
            raise ExpressionLimitError(
                f"result of more than {self._limits.max_len} elements exceeds {self._limits.max_len}"
            )
        self._grow(len(items))
        return items
