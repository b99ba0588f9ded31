"""The whitelisted functions diagram code may call (`len`, `sorted`, `str` ...), each charging the budget."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sized
from typing import Any

from app.engine.expressions.accounting import CONTAINERS, INERT, SCALARS, Accounting
from app.engine.expressions.policy import (
    MAX_ROUND_DIGITS,
    MAX_VALUE_DEPTH,
    ExpressionError,
    ExpressionLimitError,
)

_MISSING = object()

log = logging.getLogger(__name__)


class Builtins(Accounting):
    """The whitelisted functions, bound to one evaluation's budget (`fn_<name>` for `<name>`)."""

    __slots__ = ()

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
        if isinstance(value, CONTAINERS):
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
            elif isinstance(item, (bool, float, *INERT)) or item is None:
                size += 64
            elif isinstance(item, int):
                size += item.bit_length() // 3 + 2
            elif isinstance(item, CONTAINERS):
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
