"""What the app accepts at its edge: strict JSON, valid text, bounded integers.

Every request passes here before a view reads it, so no view has to think about it:

- JSON bodies (`request.get_json`, the app's JSON provider) refuse `NaN`, `Infinity` and
  `-Infinity`, nesting deeper than MAX_JSON_DEPTH (checked without recursion, before parsing),
  text that is not valid Unicode (lone surrogates, invalid UTF-8) and NUL characters, in values
  and keys alike: 400 naming the field. Bodies above MAX_JSON_BYTES answer 413.
- Query strings refuse bytes that are not UTF-8 and control characters; form fields refuse
  NUL and control characters other than tab and line breaks: 400 naming the parameter.
- URL converters: `int` is ASCII digits only and at most INT_MAX (PostgreSQL's `integer`), so
  `/tickets/１` and `/tickets/99999999999` are 404s; `string` and `path` refuse control
  characters and are at most MAX_PATH_SEGMENT characters.
- `query_int` and `body_int` read integers strictly (no booleans, no non-ASCII digits, within
  bounds) and refuse anything else with a 422 naming the field.
"""

import json
import re
from collections.abc import Mapping
from datetime import date, timedelta
from itertools import accumulate

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnprocessableEntity
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

INT_MAX = 2**31 - 1  # PostgreSQL `integer`: every id column
MAX_JSON_DEPTH = 64  # nested objects and lists in a JSON body (process data has its own, lower limit)
MAX_PATH_SEGMENT = 500  # characters of a `string` URL part (task ids, process keys, form names)

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_BAD_JSON_TEXT = re.compile("[\x00\ud800-\udfff]")
_BAD_QUERY_TEXT = re.compile("[\x00-\x1f\x7f]")
_BAD_FORM_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_INT = re.compile(r"-?[0-9]{1,19}")


class Unreadable(BadRequest):
    """400: the request cannot be read as sent (bad JSON, invalid text); `errors` names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.errors = {field: message}


class OutOfRange(UnprocessableEntity):
    """422: a well-formed value that is not acceptable (an integer out of bounds); names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.errors = {field: message}


class RefusedJSON(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _refuse_constant(name: str):
    raise RefusedJSON("body", f"{name} is not a JSON number; send a finite number or null")


def json_depth(text: str) -> int:
    """How deeply objects and lists nest in `text`, counted without recursion (strings skipped)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(_STEP[c] for c in brackets), default=0)


def _text_problem(value: str, pattern: re.Pattern) -> str | None:
    found = pattern.search(value)
    if found is None:
        return None
    if "\ud800" <= found.group() <= "\udfff":
        return "is not valid Unicode text (a lone surrogate)"
    return f"contains a control character (U+{ord(found.group()):04X})"


def check_json_text(value, where: str = "body") -> None:
    """Raise RefusedJSON for the first string (value or key) that is not valid, storable text."""
    stack = [(where, value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            problem = _text_problem(node, _BAD_JSON_TEXT)
            if problem:
                raise RefusedJSON(path, problem)
        elif isinstance(node, dict):
            for key, item in node.items():
                problem = _text_problem(key, _BAD_JSON_TEXT)
                name = key if problem is None else _safe(key.encode("utf-8", "backslashreplace").decode())
                if problem:
                    raise RefusedJSON(f"{path}.{name}" if path != "body" else name, "the key " + problem)
                stack.append((f"{path}.{key}" if path != "body" else key, item))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node))


def loads_strict(text: str | bytes):
    """Parse JSON text as the edge accepts it; ValueError (a RefusedJSON naming the field) otherwise."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode(json.detect_encoding(text))
        except UnicodeDecodeError:
            raise RefusedJSON("body", "is not valid UTF-8 text") from None
    limit = _setting("MAX_JSON_DEPTH", MAX_JSON_DEPTH)
    if json_depth(text) > limit:
        raise RefusedJSON("body", f"the JSON is nested too deeply (at most {limit} levels)")
    value = json.loads(text, parse_constant=_refuse_constant)
    check_json_text(value)
    return value


def _setting(name: str, default: int) -> int:
    return current_app.config.get(name, default) if current_app else default


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with strict parsing (`loads_strict`); answers are written as before."""

    def loads(self, s: str | bytes, **kwargs):
        return loads_strict(s)


class StrictRequest(Request):
    """A request whose JSON errors are 400s saying what is wrong and where (413 above the limit)."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        limit = current_app.config.get("MAX_JSON_BYTES")
        if limit and (self.content_length or 0) > limit and (force or self.is_json):
            too_large = RequestEntityTooLarge(f"the JSON body is too large (at most {limit} bytes)")
            too_large.errors = {"body": f"at most {limit} bytes of JSON"}
            raise too_large
        return super().get_json(force=force, silent=silent, cache=cache)

    def on_json_loading_failed(self, e: ValueError | None):
        if isinstance(e, RefusedJSON):
            raise Unreadable(e.field, e.message)
        if isinstance(e, json.JSONDecodeError):
            raise Unreadable("body", f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})")
        if e is None:
            raise Unreadable("body", "send JSON with Content-Type: application/json")
        raise Unreadable("body", "not valid JSON")


class StrictInt(IntegerConverter):
    """`<int:...>`: ASCII digits only, 0..INT_MAX unless told otherwise; anything else does not match (404)."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=0, max=INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    @property
    def signed_regex(self) -> str:
        return r"-?[0-9]+"


class StrictString(UnicodeConverter):
    """`<name>` / `<string:name>`: no control characters, at most MAX_PATH_SEGMENT characters."""

    def __init__(self, map, minlength=1, maxlength=MAX_PATH_SEGMENT, length=None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f]")


class StrictPath(PathConverter):
    """`<path:name>`: as `string`, slashes allowed."""

    regex = r"[^/\x00-\x1f\x7f][^\x00-\x1f\x7f]{0," + str(MAX_PATH_SEGMENT - 1) + "}?"
    part_isolating = False


def query_int(name: str, default: int | None = None, *, minimum: int = 0, maximum: int = INT_MAX):
    """The query parameter `name` as an integer, `default` when absent; 422 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _ASCII_INT.fullmatch(raw):
        raise OutOfRange(name, f"must be a whole number from {minimum} to {maximum}")
    return _bounded(name, int(raw), minimum, maximum)


def body_int(body: Mapping, name: str, *, minimum: int = 0, maximum: int = INT_MAX) -> int | None:
    """The JSON field `name` as an integer (booleans are not), None when absent or null; 422 otherwise."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise OutOfRange(name, f"must be a whole number from {minimum} to {maximum}")
    return _bounded(name, value, minimum, maximum)


def body_text(body: Mapping, name: str, max_length: int) -> str | None:
    """The JSON field `name` as text of at most `max_length` characters, None when absent or null."""
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > max_length):
        raise OutOfRange(name, f"must be text of at most {max_length} characters")
    return value


def query_text(name: str, max_length: int) -> str | None:
    """The query parameter `name` (at most `max_length` characters), None when absent; 422 otherwise."""
    value = request.args.get(name)
    if value is not None and len(value) > max_length:
        raise OutOfRange(name, f"must be at most {max_length} characters")
    return value


def query_enum(name: str, allowed: tuple[str, ...]) -> str | None:
    """The query parameter `name`, one of `allowed`, None when absent; 422 naming it otherwise."""
    value = request.args.get(name)
    if value is not None and value not in allowed:
        raise OutOfRange(name, f"must be one of {', '.join(allowed)}")
    return value


def query_date(name: str) -> date | None:
    """The query parameter `name` as a date (YYYY-MM-DD), None when absent or empty; 422 naming it otherwise."""
    raw = query_text(name, 10)
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise OutOfRange(name, "must be a date, YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise OutOfRange(name, "must be a date, YYYY-MM-DD") from None


def query_days(today: date, default_days: int, max_days: int) -> tuple[date, date]:
    """The inclusive days `from` .. `to` of the query (`to` defaults to `today`, `from` to
    `default_days` before it); 422 naming the field when `from` is after `to` or the span too long."""
    end = query_date("to") or today
    try:
        start = query_date("from") or end - timedelta(days=default_days - 1)
    except OverflowError:  # `to` in the first days of year 1
        raise OutOfRange("to", "must be a later date") from None
    if start > end:
        raise OutOfRange("from", "must not be after 'to'")
    if (end - start).days + 1 > max_days:
        raise OutOfRange("to", f"a period spans at most {max_days} days")
    return start, end


def ascii_int(raw: str | None, maximum: int = INT_MAX) -> int | None:
    """`raw` as a non-negative integer when it is ASCII digits within bounds, else None (for pages)."""
    if raw is None or not re.fullmatch(r"[0-9]{1,10}", raw.strip()):
        return None
    value = int(raw.strip())
    return value if value <= maximum else None


def _bounded(name: str, value: int, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise OutOfRange(name, f"must be a whole number from {minimum} to {maximum}")
    return value


def check_query_and_form() -> None:
    """Refuse query parameters that are not UTF-8 text or hold control characters, and form
    fields holding NUL or control characters other than tab and line breaks (400 naming them)."""
    for part in request.query_string.split(b"&"):
        raw_name, _, raw_value = part.partition(b"=")
        name = _unquote(raw_name).decode("utf-8", "replace")
        for raw in (raw_name, raw_value):
            try:
                text = _unquote(raw).decode("utf-8")
            except UnicodeDecodeError:
                raise Unreadable(_safe(name), "is not valid UTF-8 text") from None
            problem = _text_problem(text, _BAD_QUERY_TEXT)
            if problem:
                raise Unreadable(_safe(name), problem)
    if request.blueprint == "api" or request.mimetype not in (  # the API reads no form fields
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return
    for name, value in request.form.items(multi=True):
        if isinstance(value, str):
            problem = _text_problem(name, _BAD_FORM_TEXT) or _text_problem(value, _BAD_FORM_TEXT)
            if problem:
                raise Unreadable(_safe(name), problem)


def _unquote(raw: bytes) -> bytes:
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(raw.replace(b"+", b" "))


def _safe(name: str) -> str:
    """A parameter name fit to show: control characters escaped, at most 100 characters."""
    return _BAD_QUERY_TEXT.sub(lambda m: f"\\x{ord(m.group()):02x}", name)[:100]


def init_app(app: Flask) -> None:
    """Install the strict request class, JSON provider, URL converters and the query/form check.

    Called before any blueprint registers its routes, so every `<int:...>` is the strict one.
    """
    app.request_class = StrictRequest
    app.json = StrictJSONProvider(app)
    app.url_map.converters.update(int=StrictInt, default=StrictString, string=StrictString, path=StrictPath)
    app.before_request(check_query_and_form)
