"""Run-time half of safe expressions: the guarded operators and methods of one evaluation's `Budget`.

The compiler (`compiler`) rewrites diagram code so that every operation that can grow memory or
burn CPU calls a guard, and every loop iteration calls `_tick()`. Each evaluation gets a fresh
`Budget`; its bound methods (these guards and the whitelisted functions of `builtins`) are the
only callables user code can reach, and they charge the budget (`accounting`) for their work.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sized
from typing import Any

from app.engine.expressions.accounting import CONTAINERS, DATES, SCALARS, SEQUENCES
from app.engine.expressions.builtins import Builtins
from app.engine.expressions.policy import (
    DATETIME_CLASSES,
    DATETIME_CONSTRUCTORS,
    FRESH_RESULT_METHODS,
    FUNCTIONS,
    GROWING_METHODS,
    GUARDS,
    METHOD_TABLE,
    METHODS,
    ExpressionError,
    ExpressionLimitError,
)

_BINDABLE = {**FUNCTIONS, **GUARDS}

_dispatch_cache: dict[tuple[type, str], Any] = {}


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


class Budget(Builtins):
    """The guards and functions of one evaluation, sharing one operation and memory budget."""

    __slots__ = ()

    def bindings(self, names: Iterable[str]) -> dict[str, Any]:
        """The bound guards and functions for `names` (the ones the compiled code refers to)."""
        return {name: getattr(self, _BINDABLE[name]) for name in names if name in _BINDABLE}

    # -- operator guards -------------------------------------------------------------------

    def add(self, a: Any, b: Any, /) -> Any:
        if isinstance(a, SEQUENCES) and isinstance(b, SEQUENCES):
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
        if isinstance(a, SEQUENCES) and isinstance(b, int):
            self._grow(len(a) * max(b, 0))
        elif isinstance(b, SEQUENCES) and isinstance(a, int):
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
        if isinstance(result, CONTAINERS):
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
        if isinstance(obj, SEQUENCES):
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
        if isinstance(obj, DATES):
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
        if name in FRESH_RESULT_METHODS and isinstance(result, (*CONTAINERS, str)):
            self._grow(len(result))
        elif name in GROWING_METHODS and len(obj) > before:
            if len(obj) > self._limits.max_len:
                raise ExpressionLimitError(f"result of {len(obj)} elements exceeds {self._limits.max_len}")
            self._grow(len(obj) - before)
        return result


def _replace_size(text: Any, old: Any = "", new: Any = "", count: Any = -1, /) -> int:
    """The length of text.replace(old, new, count), computed without building it."""
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return 0
    hits = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))
