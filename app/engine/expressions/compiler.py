"""Static half of safe expressions: parse, whitelist, constant dry run, guard rewrite, compile.

`compile_safe` turns the text of a diagram expression or script into code that can only reach
the names in its namespace and the guards of `guards`. The same function serves the
deploy-time linter and the run time (through an LRU cache), so both always agree.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType
from typing import NoReturn

from app.engine.expressions.guards import Budget
from app.engine.expressions.policy import (
    BINOP_GUARDS,
    CONSTANT_TYPES,
    CONVERSION_STR,
    DATETIME_CLASSES,
    EXPRESSION_LIMITS,
    EXPRESSION_NODES,
    FORMAT_SPEC,
    FUNCTIONS,
    GUARDS,
    MARKER_NODES,
    METHOD_NAMES,
    MUTATING_METHODS,
    PLAIN_BINOPS,
    SCRIPT_LIMITS,
    SCRIPT_NODES,
    UNARY_OPS,
    ExpressionError,
    Limits,
)
from app.engine.expressions.rewrite import GuardRewriter

MODES = {"eval": EXPRESSION_LIMITS, "exec": SCRIPT_LIMITS}


@dataclass(frozen=True)
class CompiledExpression:
    """Checked and guarded code for one expression or script.

    Attributes:
        source: The text as written in the diagram.
        mode: "eval" for an expression, "exec" for a script.
        code: The compiled, guard-rewritten code.
        bindings: Names of the functions and guards the code uses (to put in its namespace).
        limits: The run-time limits of the mode.
        is_constant: True when the value does not depend on any data (only literals and
            whitelisted functions), so the linter may evaluate it at deploy time.
    """

    source: str
    mode: str
    code: CodeType
    bindings: frozenset[str]
    limits: Limits
    is_constant: bool


def compile_safe(source: str, mode: str) -> CompiledExpression:
    """Check and compile diagram code; results (and refusals) are cached by (source, mode).

    Args:
        source: The expression or script text.
        mode: "eval" for an expression, "exec" for a script.

    Returns:
        The compiled expression, ready for `expressions.evaluate_safe`/`execute_safe`.

    Raises:
        ExpressionError: The text is too long, does not parse, uses syntax, names, methods or
            calls outside the whitelist, or a constant part of it fails a run-time guard. The
            message names the problem, its position and the expression text.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    if not isinstance(source, str):
        raise ExpressionError(f"{MODES[mode].kind} must be text, not {type(source).__name__}")
    result = _compile_cached(source, mode)
    if isinstance(result, str):
        raise ExpressionError(result)
    return result


@lru_cache(maxsize=4096)
def _compile_cached(source: str, mode: str) -> CompiledExpression | str:
    try:
        return _compile(source, mode)
    except ExpressionError as exc:
        return str(exc)


def _compile(source: str, mode: str) -> CompiledExpression:
    limits = MODES[mode]
    failure = _Failure(source, limits.kind)
    if len(source) > limits.max_source:
        failure.raise_(f"{limits.kind} longer than {limits.max_source} characters")
    text = source.strip() if mode == "eval" else source
    try:
        tree = ast.parse(text, mode=mode)
    except SyntaxError as exc:
        failure.raise_(f"syntax error: {exc.msg}", line=exc.lineno, col=exc.offset)
    except (ValueError, MemoryError, RecursionError) as exc:
        failure.raise_(f"cannot parse: {exc.__class__.__name__}")
    _check_whitelist(tree, mode, limits, failure)
    function_refs = _function_references(tree)
    _dry_run_constants(tree, function_refs, limits, failure)
    data_names = {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in function_refs
    }
    functions = {node.id for node in ast.walk(tree) if id(node) in function_refs}
    tree = ast.fix_missing_locations(GuardRewriter().visit(tree))
    try:
        code = compile(tree, "<string>", mode, dont_inherit=True, optimize=0)
    except SyntaxError as exc:  # what only the compiler checks, e.g. 'break' outside a loop
        failure.raise_(f"syntax error: {exc.msg}", line=exc.lineno, col=exc.offset)
    guards = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id in GUARDS}
    is_constant = mode == "eval" and not data_names
    return CompiledExpression(source, mode, code, frozenset(functions | guards), limits, is_constant)


def _function_references(tree: ast.AST) -> set[int]:
    """ids of the Name nodes that refer to a whitelisted function: callees and key= values.

    Only these are bound to functions; any other use of a name like `round` reads task data,
    so a data field that happens to share a function's name still works as a variable.
    """
    refs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            candidates = [node.func, *(k.value for k in node.keywords if k.arg == "key")]
            refs.update(id(c) for c in candidates if isinstance(c, ast.Name) and c.id in FUNCTIONS)
    return refs


class _Failure:
    """Builds the error message: problem, position, and the (shortened) expression text."""

    def __init__(self, source: str, kind: str) -> None:
        self.source = source
        self.kind = kind

    def raise_(self, problem: str, node: ast.AST | None = None, line=None, col=None) -> NoReturn:
        if node is not None:
            line, col = getattr(node, "lineno", line), getattr(node, "col_offset", col)
        where = f" (line {line} col {col})" if line is not None else ""
        raise ExpressionError(f"{problem}{where} in {self.kind} '{shorten(self.source)}'")


def shorten(source: str) -> str:
    """The source as shown in error messages: one line, at most 120 characters."""
    shown = source.strip().replace("\n", "\\n")
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _check_whitelist(tree: ast.AST, mode: str, limits: Limits, failure: _Failure) -> None:
    """Walk the tree iteratively (last statement first) and refuse anything not whitelisted."""
    allowed = SCRIPT_NODES if mode == "exec" else EXPRESSION_NODES
    count = 0
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree, 0, tree)]
    while stack:
        node, depth, located = stack.pop()
        if isinstance(node, MARKER_NODES):
            continue
        if hasattr(node, "lineno"):
            located = node
        count += 1
        if count > limits.max_nodes:
            failure.raise_(f"{limits.kind} has more than {limits.max_nodes} syntax nodes")
        if depth > limits.max_depth:
            failure.raise_(f"{limits.kind} is nested deeper than {limits.max_depth} levels", located)
        if not isinstance(node, allowed):
            failure.raise_(f"{type(node).__name__} is not allowed", located)
        problem, children = _check_node(node, mode)
        if problem:
            failure.raise_(problem, located)
        stack.extend((child, depth + 1, located) for child in children)


def _check_node(node: ast.AST, mode: str) -> tuple[str | None, list[ast.AST]]:
    """One node's own rule; returns (problem or None, children still to check)."""
    children = list(ast.iter_child_nodes(node))
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, CONSTANT_TYPES):
            return f"{type(node.value).__name__} constant is not allowed", []
        if isinstance(node.value, int) and node.value.bit_length() > EXPRESSION_LIMITS.max_int_bits:
            return "integer constant is too large", []
    elif isinstance(node, ast.Name):
        if node.id.startswith("_"):
            return f"name '{node.id}' is not allowed", []
        if not isinstance(node.ctx, ast.Load) and node.id in FUNCTIONS:
            return f"cannot assign to built-in '{node.id}'", []
    elif isinstance(node, ast.Attribute):
        if _is_datetime_class(node):
            return None, []
        return f"attribute access '.{node.attr}' is not allowed", []
    elif isinstance(node, ast.Call):
        return _check_call(node, mode)
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):
        if not isinstance(node.op, (*BINOP_GUARDS, *PLAIN_BINOPS)):
            return f"{type(node.op).__name__} is not allowed", []
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, UNARY_OPS):
            return f"{type(node.op).__name__} is not allowed", []
    elif isinstance(node, ast.comprehension):
        if node.is_async:
            return "async comprehension is not allowed", []
    elif isinstance(node, ast.Starred):
        if not isinstance(node.ctx, ast.Load):
            return "starred assignment targets are not allowed", []
    elif isinstance(node, ast.Subscript):
        if not isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Slice):
            return "slice assignment is not allowed", []
    elif isinstance(node, ast.ExceptHandler):
        # Only `except:`: a handler never sees budget or policy errors (the rewrite re-raises
        # them first), and no exception object is bound into the data.
        if node.type is not None or node.name is not None:
            return "only a bare 'except:' is allowed (no exception types or names)", []
    elif isinstance(node, ast.FormattedValue):
        if node.conversion not in (-1, CONVERSION_STR):
            return f"f-string conversion '!{chr(node.conversion)}' is not allowed", []
        if node.format_spec is not None and not _short_format_spec(node.format_spec):
            return "f-string format spec must be a short constant like '.2f'", []
        return None, [node.value]
    return None, children


def _check_call(node: ast.Call, mode: str) -> tuple[str | None, list[ast.AST]]:
    func = node.func
    children: list[ast.AST] = list(node.args)
    if isinstance(func, ast.Name):
        if func.id not in FUNCTIONS:
            return (
                f"call to non-whitelisted callable '{func.id}'; diagram code may call "
                f"{', '.join(sorted(FUNCTIONS))}"
            ), []
    elif isinstance(func, ast.Attribute):
        if func.attr not in METHOD_NAMES:
            return f"method '.{func.attr}()' is not whitelisted", []
        if mode == "eval" and func.attr in MUTATING_METHODS:
            return f"method '.{func.attr}()' changes data and is only allowed in scripts", []
        children.append(func.value)
    else:
        return "call of a computed callable is not allowed", []
    for keyword in node.keywords:
        if keyword.arg is None:
            return "'**' arguments are not allowed in calls", []
        if keyword.arg.startswith("_"):
            return f"keyword argument '{keyword.arg}' is not allowed", []
        if keyword.arg == "key" and not _names_function(keyword.value):
            return "key= must name a whitelisted function", []
        children.append(keyword.value)
    return None, children


def _is_datetime_class(node: ast.AST) -> bool:
    """`datetime.datetime`, `datetime.date`, ...: the module's classes, read only."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "datetime"
        and node.attr in DATETIME_CLASSES
        and isinstance(node.ctx, ast.Load)
    )


def _names_function(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    return isinstance(node, ast.Name) and node.id in FUNCTIONS


def _short_format_spec(spec: ast.AST) -> bool:
    if not isinstance(spec, ast.JoinedStr):
        return False
    parts = spec.values
    if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
        return False
    return FORMAT_SPEC.fullmatch("".join(p.value for p in parts)) is not None


# -- constant dry run ------------------------------------------------------------------------

_CONSTANT_NODES = (
    ast.Constant, ast.Call, ast.keyword, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
    ast.IfExp, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Subscript, ast.Slice, ast.JoinedStr,
    ast.FormattedValue, ast.Starred, ast.Attribute,
)  # fmt: skip
_WORK_NODES = (ast.Call, ast.BinOp, ast.Subscript, ast.FormattedValue, ast.Starred)


def _dry_run_constants(tree: ast.AST, function_refs: set[int], limits: Limits, failure: _Failure) -> None:
    """Evaluate each data-independent part through the guards, so bombs fail at deploy time."""
    roots: list[ast.AST] = []
    _collect_constant_roots(tree, function_refs, roots)
    if not roots:
        return
    deadline = None
    for root in roots:
        budget = Budget(limits, deadline)
        deadline = budget.deadline  # one time allowance for all the parts together
        body = GuardRewriter().visit(copy.deepcopy(root))
        expression = ast.fix_missing_locations(ast.Expression(body=body))
        namespace = budget.bindings({*FUNCTIONS, *GUARDS})
        namespace["__builtins__"] = {}
        try:
            eval(compile(expression, "<dry-run>", "eval", dont_inherit=True), namespace)
        except ExpressionError as exc:
            failure.raise_(f"constant dry run: {exc}", root)
        except Exception:  # noqa: BLE001 - ordinary errors (1/0) only matter if the branch runs
            continue


def _collect_constant_roots(node: ast.AST, function_refs: set[int], roots: list[ast.AST]) -> bool:
    """Whether `node` is data-independent; appends the largest such parts worth running."""
    children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, MARKER_NODES)]
    results = [(child, _collect_constant_roots(child, function_refs, roots)) for child in children]
    if isinstance(node, ast.Name):
        constant = id(node) in function_refs
    elif not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
        constant = False  # an assignment target is never evaluated as a value
    else:
        constant = isinstance(node, _CONSTANT_NODES) and all(r for _, r in results)
    if not constant:
        for child, child_constant in results:
            if child_constant:
                roots.extend(_runnable_parts(child))
    return constant


def _runnable_parts(node: ast.AST) -> list[ast.AST]:
    """The parts of a constant subtree that can be evaluated on their own and do some work."""
    if isinstance(node, (ast.Starred, ast.keyword, ast.Attribute)):
        return _runnable_parts(node.value)
    if isinstance(node, ast.Slice):
        return [p for part in (node.lower, node.upper, node.step) if part for p in _runnable_parts(part)]
    if isinstance(node, ast.FormattedValue):
        return _runnable_parts(node.value)
    if isinstance(node, ast.expr) and any(isinstance(n, _WORK_NODES) for n in ast.walk(node)):
        return [node]
    return []


# -- guard rewrite -----------------------------------------------------------------------------
