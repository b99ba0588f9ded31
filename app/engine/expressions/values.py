"""The result check of safe expressions: values that leave an evaluation must be plain,
bounded data (what JSON can hold), so no function, generator or huge structure escapes."""

from __future__ import annotations

from typing import Any

from app.engine.expressions.accounting import SCALARS
from app.engine.expressions.policy import (
    EXPRESSION_LIMITS,
    MAX_VALUE_DEPTH,
    MAX_VALUE_NODES,
    ExpressionError,
    ExpressionLimitError,
)

MAX_INT_BITS = EXPRESSION_LIMITS.max_int_bits


def check_value(value: Any, what: str = "result") -> Any:
    """Check that a value is plain, bounded data (what JSON can hold) and return it.

    Args:
        value: An expression result, or the task data a script leaves behind.
        what: How to name the value in the error message.

    Returns:
        The value itself.

    Raises:
        ExpressionError: The value holds something other than dicts, lists, tuples, strings,
            numbers, booleans and None, or has more than 50,000 nodes, or is nested deeper
            than 32 levels, or contains itself.
        ExpressionLimitError: It holds an integer of more than 4,096 bits.
    """
    if isinstance(value, SCALARS):
        return _check_int(value, what)
    nodes = 0
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(value, 0, False)]
    while stack:
        item, depth, leaving = stack.pop()
        if leaving:
            on_path.discard(id(item))
            continue
        nodes += 1
        if nodes > MAX_VALUE_NODES:
            raise ExpressionError(f"{what} has more than {MAX_VALUE_NODES} elements")
        if isinstance(item, SCALARS):
            _check_int(item, what)
            continue
        if not isinstance(item, (dict, list, tuple)):
            kind = "function" if callable(item) else type(item).__name__
            raise ExpressionError(f"{what} holds a {kind}, which is not plain data")
        if depth >= MAX_VALUE_DEPTH:
            raise ExpressionError(f"{what} is nested deeper than {MAX_VALUE_DEPTH} levels")
        if id(item) in on_path:
            raise ExpressionError(f"{what} contains itself")
        on_path.add(id(item))
        stack.append((item, depth, True))
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, (str, int, float, bool, type(None))):
                    raise ExpressionError(f"{what} has a dict key of type {type(key).__name__}")
                stack.append((child, depth + 1, False))
        else:
            stack.extend((child, depth + 1, False) for child in item)
    return value


def _check_int(value: Any, what: str) -> Any:
    if type(value) is int and value.bit_length() > MAX_INT_BITS:
        raise ExpressionLimitError(
            f"{what} holds an integer of {value.bit_length()} bits; at most {MAX_INT_BITS}"
        )
    return value
