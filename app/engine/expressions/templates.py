"""Task instructions (`instructionsForEndUser`): Jinja2 rendering bounded like diagram expressions.

Jinja's sandbox stops attribute walks but not work: `{{ 9**9**9 }}` or two nested
`range(99999)` loops would hold a command (and the database's write lock) for minutes. Every
render here runs on one `Budget` of the expression evaluator (`TEMPLATE_LIMITS`: operations,
allocated elements, integer size, 100 ms), charged by:

* every binary operator (`call_binop`, which also keeps Jinja from folding constant bombs at
  compile time), string concatenation (`~`) and every `{{ output }}`;
* every loop iteration (each `{% for %}` iterates through `iterate`, inserted into the parsed
  template, so the template cannot shadow it) and every call (macros, `loop()`, `caller()`);
* methods of values, which go through the evaluator's whitelist and size guards (`Budget.method`):
  `'{:>999999999}'.format(1)` is refused, `.replace('', s)` is charged before it runs;
* filters, from a whitelist, with integer arguments at most `MAX_FILTER_INT` and sized results.

`render_bounded` raises `ExpressionLimitError` when the budget runs out; `check_template` is the
deploy check (the template compiles, and rendering it without data stays within the budget).

Task instructions are Markdown (app/web/markdown.py) while what fills them comes from customers
(`{{ description }}`): `render_bounded(..., markdown_values=True)` escapes the Markdown in every
value it outputs (`escape_markdown`), so a customer's "[click](http://evil.example)" or "# Heading"
reads as typed, and only the template's own text is Markdown. Other templates (canned replies,
letters to customers) are plain text and render values as they are.
"""

from __future__ import annotations

import functools
import re
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.ext import Extension
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from app.engine.expressions.accounting import CONTAINERS
from app.engine.expressions.guards import Budget
from app.engine.expressions.policy import MUTATING_METHODS, ExpressionError, ExpressionLimitError, Limits

# Loops stop at the operation budget (about 15 ms of work); the wall-clock limit is the backstop for a
# single costly step, and is wider than an expression's so a loaded machine does not trip it.
TEMPLATE_LIMITS = Limits(kind="template", max_source=20_000, max_nodes=4_000, seconds=0.1)
MAX_OUTPUT = 20_000  # characters of rendered instructions kept
MAX_FILTER_INT = 10_000  # a width, count or length given to a filter
SAFE_FILTERS = frozenset(
    "abs batch capitalize center count d default dictsort e escape filesizeformat first float "
    "forceescape format groupby int items join last length list lower map max min reject rejectattr "
    "replace reverse round safe select selectattr slice sort string sum title tojson trim truncate "
    "unique upper wordcount".split()
)
# A printf width or precision of six digits or more ('%999999999d'): refused before formatting.
_HUGE_PRINTF = re.compile(r"%[-+ #0]*(\d{6,}|\d*\.\d{6,})")
_budget: ContextVar[Budget | None] = ContextVar("ticketflow_template_budget", default=None)
_markdown_values: ContextVar[bool] = ContextVar("ticketflow_template_markdown_values", default=False)
# Characters that start Markdown anywhere in a line (emphasis, code, links, images, autolinks,
# headings, tables, entities, strikethrough, setext underlines); CommonMark lets a backslash make
# each literal. `-`, `+`, `.` and `)` only matter as a list marker (at a line's start, followed by a
# space; a value may start a line): escaped there only, so ISO times and amounts ("11.00") stay as
# they are (the inbox's `when('text')` still finds the times).
_MARKDOWN_ANYWHERE = re.compile(r"([\\`*_\[\]<>#!|~&=])")
_MARKDOWN_LINE_START = re.compile(r"(?m)^([ \t]*)(?:([-+])|(\d{1,9})([.)]))(?=[ \t]|$)")
_PLAIN_NUMBERS = (bool, int, float, Decimal)


def escape_markdown(text: str) -> str:
    """`text` with every Markdown construct backslash-escaped: rendered as Markdown it reads as typed."""
    escaped = _MARKDOWN_ANYWHERE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(
        lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4)), escaped
    )


def _current() -> Budget:
    budget = _budget.get()
    if budget is None:  # only renders through render_bounded run templates
        raise ExpressionError("templates are rendered only through render_bounded")
    return budget


class _BudgetExtension(Extension):
    """Holds the functions the parse step routes loops and concatenations through."""

    identifier = "ticketflow.budget"

    @staticmethod
    def iterate(iterable: Any) -> Any:
        budget = _current()
        budget.tick()
        for item in iterable:
            budget.tick()
            yield item

    @staticmethod
    def concat(*parts: Any) -> str:
        budget = _current()
        texts = [str(part) for part in parts]
        budget._grow(sum(len(t) for t in texts))
        return "".join(texts)


class _Budgeted(NodeTransformer):
    """Route every loop's iterable and every `~` concatenation through the extension."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = _call("iterate", [node.iter], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return _call("concat", list(node.nodes), node.lineno)


def _call(name: str, args: list, lineno: int) -> nodes.Call:
    attribute = nodes.ExtensionAttribute(_BudgetExtension.identifier, name, lineno=lineno)
    return nodes.Call(attribute, args, [], None, None, lineno=lineno)


def _finalize(value: Any) -> Any:
    """Every `{{ output }}` is charged for its size; integers over the cap are errors."""
    budget = _budget.get()
    if budget is None:  # a constant output, finalized when the template compiles
        return value
    budget._check_int(value)
    text = value if isinstance(value, str) else str(value)
    budget._grow(len(text))
    if _markdown_values.get() and not isinstance(value, _PLAIN_NUMBERS):
        return escape_markdown(text)
    return value


def _bounded_filter(name: str, func: Any) -> Any:
    pass_arg = getattr(func, "jinja_pass_arg", None)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        budget = _current()
        budget.tick()
        offset = 1 if pass_arg is not None else 0  # the context, eval context or environment
        value, rest = (args[offset] if len(args) > offset else None), args[offset + 1 :]
        for arg in (*rest, *kwargs.values()):
            if isinstance(arg, int) and abs(arg) > MAX_FILTER_INT:
                raise ExpressionLimitError(f"filter '{name}' argument {arg} exceeds {MAX_FILTER_INT}")
        if isinstance(value, str):
            budget._work(len(value))
            if name == "replace" and len(rest) >= 2:
                budget.method(value, "replace", *rest)  # sized before the real one runs
            if name == "format" and _HUGE_PRINTF.search(value):
                raise ExpressionLimitError("filter 'format': a width or precision of six digits or more")
        if name == "join" and value is not None and not isinstance(value, str):
            args = (*args[:offset], budget._materialize(value), *rest)
            budget._grow(sum(len(str(item)) for item in args[offset]))
        result = func(*args, **kwargs)
        if isinstance(result, (str, *CONTAINERS)):
            budget._grow(len(result))
        return budget._check_int(result)

    return wrapper


class BoundedEnvironment(SandboxedEnvironment):
    """Jinja2's sandbox with every operator, loop, call, method and filter on a budget."""

    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            undefined=ChainableUndefined,
            extensions=[_BudgetExtension],
            finalize=_finalize,
        )
        self.filters = {
            name: _bounded_filter(name, func) for name, func in self.filters.items() if name in SAFE_FILTERS
        }
        del self.globals["lipsum"]  # lipsum(n=10**9) writes paragraphs without end

    def _parse(self, source, name, filename):
        return _Budgeted().visit(super()._parse(source, name, filename))

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        budget = _current()
        budget.tick()
        if operator == "+":
            return budget.add(left, right)
        if operator == "*":
            return budget.mul(left, right)
        if operator == "**":
            return budget.pow(left, right)
        if operator == "%":
            return budget.mod(left, right)  # refuses printf-style formatting
        if operator == "-":
            return budget.sub(left, right)
        return budget._check_int(left / right if operator == "/" else left // right)

    def call(__self, __context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = _current()
        budget.tick()
        method = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format at lookup
        owner = getattr(method, "__self__", None)
        name = getattr(method, "__name__", "")
        if owner is not None and not isinstance(owner, type) and type(owner).__module__ == "builtins":
            if name in MUTATING_METHODS:
                raise ExpressionError(f"method '.{name}()' would change the process data")
            return budget.method(owner, name, *args, **kwargs)  # the whitelist and its size guards
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            args = (_BudgetExtension.iterate(args[0]), *args[1:])
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"{__obj!r} is not safely callable")
        result = __context.call(__obj, *args, **kwargs)
        if isinstance(result, range):
            budget._work(len(result))
        return result


_ENVIRONMENT = BoundedEnvironment()


@functools.lru_cache(maxsize=512)
def compiled_template(source: str):
    """A template compiled once per text (compiling costs more than rendering).

    Raises:
        ExpressionError: the text is longer than 20,000 characters.
        TemplateError: it does not compile (a syntax error, an unknown filter).
    """
    if len(source) > TEMPLATE_LIMITS.max_source:
        raise ExpressionError(f"template longer than {TEMPLATE_LIMITS.max_source} characters")
    return _ENVIRONMENT.from_string(source)


def render_bounded(source: str, data: dict, markdown_values: bool = False) -> str:
    """Render a template with `data` on a fresh budget (operations, allocation, integer size, time).

    With `markdown_values` (task instructions, which are Markdown) every value the template outputs
    is Markdown-escaped, so what a customer typed cannot add links or headings.

    Raises:
        ExpressionLimitError: the render ran out of its budget (also for a recursion too deep).
        ExpressionError, TemplateError, and the ordinary errors of the template's own code.
    """
    template = compiled_template(source)
    token = _budget.set(Budget(TEMPLATE_LIMITS))
    escaping = _markdown_values.set(markdown_values)
    try:
        return template.render(**data)[:MAX_OUTPUT]
    except (RecursionError, MemoryError) as exc:
        raise ExpressionLimitError(f"{type(exc).__name__} while rendering") from None
    finally:
        _markdown_values.reset(escaping)
        _budget.reset(token)


def check_template(source: str) -> str | None:
    """The deploy check of a template: None when it compiles and its constant part stays in budget.

    Rendering without data runs every part that does not depend on data (`range(99999)` loops,
    `9**9**9`): what overruns the budget then always will.
    """
    try:
        compiled_template(source)
    except TemplateError as exc:
        return f"template does not compile: {exc}"
    except ExpressionError as exc:
        return str(exc)
    try:
        render_bounded(source, {})
    except ExpressionLimitError as exc:
        return f"template exceeds its budget without data: {exc}"
    except ExpressionError as exc:  # a refused method: refused whatever the data
        return f"template refused: {exc}"
    except Exception:  # noqa: BLE001 - data-dependent parts fail without data; run time will tell
        return None
    return None
