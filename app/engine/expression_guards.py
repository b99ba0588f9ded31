"""Run-time half of safe expressions: budgets, guards, whitelisted callables, value checks.

The compiler (`expression_compiler`) rewrites diagram code so that every operation that can
grow memory or burn CPU calls a guard, and every loop iteration calls `_tick()`. Each evaluation
gets a fresh `Budget`; its bound methods are the only callables user code can reach, and they
charge the budget for the work they do. Nothing here uses threads or signals: time is checked
at every tick.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import logging
import math
import sys
import time
import uuid
from collections.abc import Iterable, Sized
from typing import Any

from app.engine.expression_policy import (
    DATETIME_CLASSES,
    DATETIME_CONSTRUCTORS,
    ELEMENTS_PER_OP,
    FRESH_RESULT_METHODS,
    FUNCTIONS,
    GROWING_METHODS,
    GUARDS,
    MAX_ROUND_DIGITS,
    MAX_VALUE_DEPTH,
    METHOD_TABLE,
    METHODS,
    ExpressionError,
    ExpressionLimitError,
    Limits,
)

_SEQUENCES = (str, list, tuple)
_CONTAINERS = (list, tuple, dict, set, frozenset)
# Inert values SpiffWorkflow's serializer may have put in task data; user code cannot make them,
# but they may pass through as plain data.
_DATES = (datetime.date, datetime.timedelta)  # datetime.datetime is a date
_INERT = (datetime.date, datetime.time, datetime.timedelta, decimal.Decimal, uuid.UUID)
SCALARS = (str, int, float, bool, type(None), *_INERT)
_MISSING = object()
_BINDABLE = {**FUNCTIONS, **GUARDS}

_dispatch_cache: dict[tuple[type, str], Any] = {}

log = logging.getLogger(__name__)


def _method_for(tp: type, name: str) -> Any:
    key = (tp, name)
    if key not in _dispatch_cache:
        found = None
        for base in tp.__mro__:
            found = METHODS.get((base, name))
            if found is not None or base in METHOD_TABLE:
                break
        _dispatch_cache[key] = found
    return _dispatch_cache[key]


def _bits_text(bits: int | float) -> str:
    return "~more than 10**12" if bits > 10**12 else f"~{int(bits)}"


class Budget:
    """The guards and functions of one evaluation, sharing one operation and memory budget."""

    __slots__ = ("_limits", "_ops", "_alloc", "_deadline")

    def __init__(self, limits: Limits, deadline: float | None = None) -> None:
        self._limits = limits
        self._ops = 0
        self._alloc = 0
        self._deadline = time.perf_counter() + limits.seconds if deadline is None else deadline

    @property
    def deadline(self) -> float:
        """The perf_counter() value after which the next tick fails."""
        return self._deadline

    def bindings(self, names: Iterable[str]) -> dict[str, Any]:
        """The bound guards and functions for `names` (the ones the compiled code refers to)."""
        return {name: getattr(self, _BINDABLE[name]) for name in names if name in _BINDABLE}

    # -- accounting ------------------------------------------------------------------------

    def tick(self, /) -> bool:
        self._ops += 1
        if self._ops > self._limits.max_ops:
            raise ExpressionLimitError(f"operation budget ({self._limits.max_ops}) exceeded")
        if time.perf_counter() > self._deadline:
            raise ExpressionLimitError(f"time limit ({self._limits.seconds * 1000:.0f} ms) exceeded")
        return True

    def rethrow(self, /) -> None:
        """Called first in every `except:` of a script: only the script's own errors (a
        missing key, a bad conversion) may be handled; the evaluator's limits and refusals,
        and anything not an ordinary Exception, go on up."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ExpressionError) or not isinstance(exc, Exception) \
                or isinstance(exc, (MemoryError, RecursionError)):
            raise exc
        self.tick()

    def _work(self, elements: int) -> None:
        self._ops += elements // ELEMENTS_PER_OP
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

    # -- operator guards -------------------------------------------------------------------

    def add(self, a: Any, b: Any, /) -> Any:
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self._grow(len(a) + len(b))
            return a + b
        return self._check_int(a + b)

    def mul(self, a: Any, b: Any, /) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            bits = a.bit_length() + b.bit_length()
            if bits > self._limits.max_int_bits + 1:
                raise ExpressionLimitError(
                    f"integer result of ~{bits} bits exceeds {self._limits.max_int_bits}"
                )
            return self._check_int(a * b)
        if isinstance(a, _SEQUENCES) and isinstance(b, int):
            self._grow(len(a) * max(b, 0))
        elif isinstance(b, _SEQUENCES) and isinstance(a, int):
            self._grow(len(b) * max(a, 0))
        return a * b

    def pow(self, a: Any, b: Any, /) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
            # Estimated before computing: 9**9**9 would take minutes and gigabytes.
            bits = b * math.log2(abs(a)) if b.bit_length() < 64 else math.inf
            if bits > self._limits.max_int_bits:
                raise ExpressionLimitError(
                    f"integer result of {_bits_text(bits)} bits exceeds {self._limits.max_int_bits}"
                )
        return self._check_int(a**b)

    def mod(self, a: Any, b: Any, /) -> Any:
        if isinstance(a, str):
            raise ExpressionLimitError("printf-style '%' string formatting is not allowed")
        return a % b

    def _sized_result(self, result: Any) -> Any:
        if isinstance(result, _CONTAINERS):
            self._grow(len(result))
        return self._check_int(result)

    def sub(self, a: Any, b: Any, /) -> Any:
        return self._sized_result(a - b)

    def or_(self, a: Any, b: Any, /) -> Any:
        return self._sized_result(a | b)

    def and_(self, a: Any, b: Any, /) -> Any:
        return self._sized_result(a & b)

    def xor(self, a: Any, b: Any, /) -> Any:
        return self._sized_result(a ^ b)

    def slice(self, obj: Any, lower: Any, upper: Any, step: Any, /) -> Any:
        window = slice(lower, upper, step)
        if isinstance(obj, _SEQUENCES):
            self._grow(len(range(*window.indices(len(obj)))))
        return obj[window]

    def star(self, value: Any, /) -> Any:
        if isinstance(value, dict):
            self._grow(len(value))
            return value
        return self._materialize(value)

    def fmt(self, value: Any, /) -> Any:
        if isinstance(value, str):
            self._work(len(value))
            return value
        if isinstance(value, SCALARS):
            return value
        return self.fn_str(value)

    def datetime_class(self, name: str, /) -> type:
        self.tick()
        return DATETIME_CLASSES[name]

    def method(self, obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
        if isinstance(obj, type) and (obj, name) in DATETIME_CONSTRUCTORS:
            self.tick()
            return DATETIME_CONSTRUCTORS[(obj, name)](*args, **kwargs)
        if isinstance(obj, _DATES):
            func = _method_for(type(obj), name)
            if func is None:
                raise ExpressionError(f"method '.{name}()' is not available on {type(obj).__name__}")
            self.tick()
            return func(obj)  # the whitelisted date methods take no arguments we allow
        func = _method_for(type(obj), name)
        if func is None:
            raise ExpressionError(f"method '.{name}()' is not available on {type(obj).__name__}")
        if name == "replace":
            self._grow(_replace_size(obj, *args))
        elif name == "join":
            items = self._materialize(args[0]) if args else []
            text = sum(len(i) for i in items if isinstance(i, str))
            self._grow(text + len(obj) * max(len(items) - 1, 0))
            args = (items, *args[1:])
        elif name == "sort":
            self._check_key(kwargs.get("key"))
            self._work(len(obj) * max(1, len(obj).bit_length()))
        else:
            self._work(len(obj) + sum(len(arg) for arg in args if isinstance(arg, Sized)))
        before = len(obj)
        result = func(obj, *args, **kwargs)
        if name in FRESH_RESULT_METHODS and isinstance(result, (*_CONTAINERS, str)):
            self._grow(len(result))
        elif name in GROWING_METHODS and len(obj) > before:
            if len(obj) > self._limits.max_len:
                raise ExpressionLimitError(f"result of {len(obj)} elements exceeds {self._limits.max_len}")
            self._grow(len(obj) - before)
        return result

    # -- whitelisted functions -------------------------------------------------------------

    def fn_print(self, *args: Any, **_ignored: Any) -> None:
        """Scripts written for SpiffWorkflow print to follow their progress: logged, bounded."""
        text = " ".join(self.fn_str(a) for a in args)[:500]
        log.debug("diagram print: %s", text)

    def fn_len(self, obj: Any, /) -> int:
        return len(obj)

    def _extreme(self, pick: Any, args: tuple, key: Any, default: Any) -> Any:
        self._check_key(key)
        items = self._materialize(args[0]) if len(args) == 1 else list(args)
        if default is _MISSING:
            return pick(items, key=key)
        return pick(items, key=key, default=default)

    def fn_min(self, *args: Any, key: Any = None, default: Any = _MISSING) -> Any:
        return self._extreme(min, args, key, default)

    def fn_max(self, *args: Any, key: Any = None, default: Any = _MISSING) -> Any:
        return self._extreme(max, args, key, default)

    def fn_round(self, number: Any, ndigits: Any = None, /) -> Any:
        if ndigits is None:
            return round(number)
        if isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
            raise ExpressionLimitError(f"round() ndigits must be within +-{MAX_ROUND_DIGITS}")
        return round(number, ndigits)

    def fn_sum(self, iterable: Any, /, start: Any = 0) -> Any:
        if not isinstance(start, (int, float)):
            raise ExpressionError("sum() start must be a number")
        return self._check_int(sum(self._materialize(iterable), start))

    def fn_any(self, iterable: Any, /) -> bool:
        if isinstance(iterable, Sized):
            self._work(len(iterable))
        return any(iterable)

    def fn_all(self, iterable: Any, /) -> bool:
        if isinstance(iterable, Sized):
            self._work(len(iterable))
        return all(iterable)

    def fn_str(self, value: Any = "", /) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (*SCALARS, range)):
            return str(value)
        if callable(value):
            return "<function>"
        if isinstance(value, _CONTAINERS):
            self._repr_size(value)  # refuses before building a string that would be too large
            text = str(value)
            self._grow(len(text))
            return text
        raise ExpressionError(f"str() of a {type(value).__name__} is not supported")

    def _repr_size(self, value: Any) -> int:
        """Estimate the length of repr(value), refusing big, deep or non-data structures."""
        limits = self._limits
        size, nodes = 0, 0
        stack: list[tuple[Any, int]] = [(value, 0)]
        while stack:
            item, depth = stack.pop()
            nodes += 1
            if isinstance(item, str):
                size += len(item) + 4
            elif isinstance(item, (bool, float, *_INERT)) or item is None:
                size += 64
            elif isinstance(item, int):
                size += item.bit_length() // 3 + 2
            elif isinstance(item, _CONTAINERS):
                if depth >= MAX_VALUE_DEPTH:
                    raise ExpressionLimitError(f"structure nested deeper than {MAX_VALUE_DEPTH} levels")
                size += 2 + 2 * len(item)
                if size <= limits.max_len:
                    children = itertools.chain.from_iterable(item.items()) if isinstance(item, dict) else item
                    stack.extend((child, depth + 1) for child in children)
            else:
                kind = "function" if callable(item) else type(item).__name__
                raise ExpressionError(f"str() of a container holding a {kind} is not supported")
            if size > limits.max_len:
                self._work(nodes)
                raise ExpressionLimitError(
                    f"result of more than {limits.max_len} elements exceeds {limits.max_len}"
                )
        self._work(nodes)
        return size

    def fn_int(self, value: Any = 0, /, *args: Any) -> int:
        return self._check_int(int(value, *args))

    def fn_float(self, value: Any = 0.0, /) -> float:
        return float(value)

    def fn_bool(self, value: Any = False, /) -> bool:
        return bool(value)

    def fn_abs(self, value: Any, /) -> Any:
        return abs(value)

    def fn_sorted(self, iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list:
        self._check_key(key)
        items = self._materialize(iterable)
        self._work(len(items) * max(1, len(items).bit_length()))
        items.sort(key=key, reverse=reverse)
        return items

    def fn_range(self, *args: Any) -> range:
        numbers = range(*args)
        start, stop, step = numbers.start, numbers.stop, numbers.step
        length = max(0, (stop - start + step - (1 if step > 0 else -1)) // step)
        if length > self._limits.max_len:
            raise ExpressionLimitError(f"result of {length} elements exceeds {self._limits.max_len}")
        self.tick()
        return numbers

    def fn_list(self, iterable: Any = (), /) -> list:
        return self._materialize(iterable)

    def fn_tuple(self, iterable: Any = (), /) -> tuple:
        return tuple(self._materialize(iterable))

    def fn_set(self, iterable: Any = (), /) -> set:
        return set(self._materialize(iterable))

    def fn_dict(self, *args: Any, **kwargs: Any) -> dict:
        if args and not isinstance(args[0], dict):
            args = (self._materialize(args[0]), *args[1:])
        elif args:
            self._grow(len(args[0]))
        self._grow(len(kwargs))
        return dict(*args, **kwargs)

    def fn_enumerate(self, iterable: Any, /, start: int = 0) -> enumerate:
        return enumerate(iterable, self._check_int(start))

    def fn_zip(self, *iterables: Any, strict: bool = False) -> zip:
        return zip(*iterables, strict=strict)


def _replace_size(text: Any, old: Any = "", new: Any = "", count: Any = -1, /) -> int:
    """The length of text.replace(old, new, count), computed without building it."""
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return 0
    hits = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))
