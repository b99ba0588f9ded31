"""What diagram code may do: limits, syntax, functions and methods, and the errors for the rest.

This is the policy half of safe expressions, in one place so it can be reviewed on its own: the
compiler (`compiler`) enforces the syntax rules, the guards (`guards`)
enforce the run-time limits and dispatch the whitelisted methods listed here.
"""

from __future__ import annotations

import ast
import datetime
import re
from dataclasses import dataclass
from typing import Any


class ExpressionError(ValueError):
    """A diagram expression or script is not allowed, or failed a safety check."""


class ExpressionLimitError(ExpressionError):
    """A run-time guard stopped an expression or script (budget, size or time)."""


@dataclass(frozen=True)
class Limits:
    """Static and run-time bounds for one kind of code (expression or script)."""

    kind: str
    max_source: int
    max_nodes: int
    seconds: float
    max_depth: int = 40
    max_ops: int = 100_000
    max_alloc: int = 2_000_000
    max_len: int = 100_000
    max_int_bits: int = 4096


EXPRESSION_LIMITS = Limits(kind="expression", max_source=2_000, max_nodes=400, seconds=0.05)
SCRIPT_LIMITS = Limits(kind="script", max_source=20_000, max_nodes=4_000, seconds=0.5)

MAX_VALUE_NODES = 50_000
MAX_VALUE_DEPTH = 32
# One operation of the budget stands for this many elements handled inside a builtin.
ELEMENTS_PER_OP = 1_000
MAX_ROUND_DIGITS = 20


# Methods user code may call, by base type. Mutating ones are refused in expressions at compile
# time, so a gateway condition can never change task data.
METHOD_TABLE = {
    str: (
        "lower upper strip lstrip rstrip startswith endswith split rsplit splitlines title "
        "capitalize casefold isdigit isalpha isalnum isspace isnumeric isdecimal islower "
        "isupper find rfind index count partition rpartition join replace"
    ),
    dict: "get keys values items copy pop setdefault update clear",
    list: "append extend insert pop remove index count copy reverse sort clear",
    set: "add discard union intersection difference issubset issuperset copy",
    tuple: "index count",
}
METHODS: dict[tuple[type, str], Any] = {
    (base, name): getattr(base, name) for base, names in METHOD_TABLE.items() for name in names.split()
}
# The `datetime` module as SpiffWorkflow scripts use it: `datetime.datetime.utcnow().timestamp()`.
# Only these classes are reachable (`datetime.<class>`), only these constructors on them, and
# only these methods on their values; everything they return is a date, a time or a number.
DATETIME_CLASSES = {
    "datetime": datetime.datetime,
    "date": datetime.date,
    "timedelta": datetime.timedelta,
    "timezone": datetime.timezone,
}
DATETIME_CONSTRUCTORS = {
    (datetime.datetime, "now"): lambda tz=None: datetime.datetime.now(tz),
    (datetime.datetime, "utcnow"): lambda: datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
    (datetime.datetime, "today"): lambda: datetime.datetime.now(),
    (datetime.datetime, "fromisoformat"): lambda text: datetime.datetime.fromisoformat(str(text)[:64]),
    (datetime.date, "today"): lambda: datetime.date.today(),
    (datetime.date, "fromisoformat"): lambda text: datetime.date.fromisoformat(str(text)[:64]),
}
DATETIME_METHOD_TABLE = {
    datetime.datetime: "timestamp isoformat date weekday isoweekday",
    datetime.date: "isoformat weekday isoweekday",
    datetime.timedelta: "total_seconds",
}
METHODS.update(
    {
        (base, name): getattr(base, name)
        for base, names in DATETIME_METHOD_TABLE.items()
        for name in names.split()
    }
)
METHOD_NAMES = frozenset({name for _, name in METHODS} | {name for _, name in DATETIME_CONSTRUCTORS})
MUTATING_METHODS = frozenset(
    "append extend insert pop remove reverse sort clear setdefault update add discard".split()
)
# Methods that return a new string or container whose size must be charged.
FRESH_RESULT_METHODS = frozenset(
    "lower upper strip lstrip rstrip split rsplit splitlines title capitalize casefold "
    "partition rpartition copy union intersection difference".split()
)
GROWING_METHODS = frozenset("append extend insert setdefault update add".split())

# Name visible to user code -> Budget method implementing it.
FUNCTIONS = {
    name: f"fn_{name}"
    for name in (
        "len min max round sum any all str int float bool abs sorted range list dict set tuple enumerate zip "
        "print"
    ).split()
}
# Name inserted by the rewrite -> Budget method. All start with "_", which user code cannot use.
GUARDS = {
    "_tick": "tick",
    "_add": "add",
    "_mul": "mul",
    "_pow": "pow",
    "_mod": "mod",
    "_sub": "sub",
    "_or": "or_",
    "_and": "and_",
    "_xor": "xor",
    "_m": "method",
    "_fmt": "fmt",
    "_star": "star",
    "_slice": "slice",
    "_rethrow": "rethrow",
    "_dt": "datetime_class",
}

# Syntax: the AST node types an expression may contain; scripts may also use a few statements.
EXPRESSION_NODES = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call,
    ast.keyword, ast.Name, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Subscript,
    ast.Slice, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
    ast.JoinedStr, ast.FormattedValue, ast.Starred, ast.Attribute,
)  # fmt: skip
SCRIPT_NODES = EXPRESSION_NODES + (
    ast.Module, ast.Assign, ast.AugAssign, ast.Expr, ast.If, ast.For, ast.While, ast.Break,
    ast.Continue, ast.Pass, ast.Delete, ast.Assert, ast.Try, ast.ExceptHandler,
)  # fmt: skip
# Operator and context nodes are checked by their parent and not counted.
MARKER_NODES = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)
BINOP_GUARDS = {
    ast.Add: "_add", ast.Mult: "_mul", ast.Pow: "_pow", ast.Mod: "_mod",
    ast.Sub: "_sub", ast.BitOr: "_or", ast.BitAnd: "_and", ast.BitXor: "_xor",
}  # fmt: skip
PLAIN_BINOPS = (ast.Div, ast.FloorDiv)
UNARY_OPS = (ast.Not, ast.USub, ast.UAdd)
CONSTANT_TYPES = (str, int, float, bool, type(None))
FORMAT_SPEC = re.compile(r"[<>^]?[+\- ]?,?\d{0,2}(\.\d{1,2})?[sdfeg%]?")
CONVERSION_STR = ord("s")
