"""The shape of a process test file (`<process>.tests.json`), checked with JSON Schema.

A file holds named scenarios. Each gives the start data, what each user task submits (by task
id; a list when the task comes round again), what service operators return (mocked, by task id
or operator name), the events that happen (a message arrives, time passes, optionally `at` the
element the process must wait at), and what is expected (the elements passed in order or as a
set, the instance's and the ticket's status, data values). Every problem names the scenario and
the field.
"""

import json
import re

from jsonschema import Draft202012Validator

from app.engine.errors import Problem
from app.inputs import loads_strict

SUFFIX = ".tests.json"
MAX_SCENARIOS = 100
DURATION = r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$"
ID = {"type": "string", "minLength": 1, "maxLength": 255}
IDS = {"type": "array", "items": ID, "maxItems": 500}
OBJECT = {"type": "object"}

SCENARIO = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 2000},
        "start": OBJECT,
        "subject": {"type": "string", "minLength": 1, "maxLength": 300},
        "priority": {"enum": ["low", "normal", "high", "urgent"]},
        "customer": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "tier": {"type": "string", "maxLength": 40},
                "tenure_months": {"type": "integer", "minimum": 0},
                "order_count": {"type": "integer", "minimum": 0},
                "on_time_payment_ratio": {"type": "number", "minimum": 0, "maximum": 1},
                "open_balance": {"type": "number"},
            },
        },
        "tasks": {
            "type": "object",
            "additionalProperties": {"oneOf": [OBJECT, {"type": "array", "items": OBJECT, "minItems": 1}]},
        },
        "services": {
            "type": "object",
            "additionalProperties": {
                "oneOf": [
                    OBJECT,
                    {"type": "array", "items": OBJECT, "minItems": 1},
                ]
            },
        },
        "events": {
            "type": "array",
            "maxItems": 500,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["message"],
                        "properties": {"message": ID, "payload": OBJECT, "at": ID},
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["advance"],
                        "properties": {"advance": {"type": "string", "pattern": DURATION}, "at": ID},
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["until"],
                        "properties": {"until": ID, "at": ID},
                    },
                ]
            },
        },
        "expect": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "path": IDS,
                "passes": IDS,
                "skips": IDS,
                "waiting_at": IDS,
                "status": {"enum": ["completed", "running", "incident", "cancelled"]},
                "ticket": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "status": {"type": "string", "minLength": 1, "maxLength": 40},
                        "resolution": {"type": ["string", "null"], "maxLength": 80},
                    },
                },
                "data": OBJECT,
            },
        },
    },
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["scenarios"],
    "properties": {
        "$schema": {"type": "string"},
        "process": ID,
        "scenarios": {"type": "array", "items": SCENARIO, "maxItems": MAX_SCENARIOS},
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)


def tests_file_of(key: str) -> str:
    return f"{key}{SUFFIX}"


def is_tests_file(name: str) -> bool:
    return name.lower().endswith(SUFFIX)


def process_key_of(name: str) -> str:
    return name[: -len(SUFFIX)]


def _where(error, document) -> str:
    """'scenario 'rejected' field tasks.review_request' for an error's path."""
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "scenarios" and isinstance(path[1], int):
        scenarios = document.get("scenarios") or []
        entry = scenarios[path[1]] if path[1] < len(scenarios) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"scenario '{name}'" if isinstance(name, str) else f"scenario {path[1] + 1}"
        rest = _dotted(path[2:])
        return f"{label} field {rest}" if rest else label
    return f"field {_dotted(path)}" if path else "the file"


def _dotted(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _leaf(error):
    """The error to report: inside a oneOf, the alternative that came closest (its deepest error)."""
    if error.validator != "oneOf" or not error.context:
        return error
    best = max(
        error.context,
        key=lambda e: (len(e.absolute_path), e.validator not in ("required", "additionalProperties", "type")),
    )
    if len(best.absolute_path) == len(error.absolute_path) and best.validator in ("type", "required"):
        return error  # no alternative came close: say what the field takes
    return _leaf(best)


def _message(error) -> str:
    if error.validator == "oneOf":
        kinds = sorted({str(e.validator_value) for e in error.context if e.validator == "type"})
        if kinds == ["array", "object"]:
            return f"{error.instance!r} must be an object or a list of objects"
        return f"{json.dumps(error.instance)[:200]} is none of the forms this field takes"
    if error.validator == "pattern":
        return f"{error.instance!r} is not an ISO-8601 duration such as 'P3D' or 'PT4H'"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    return error.message


def parse_tests(name: str, data: bytes | str) -> tuple[dict | None, list[Problem]]:
    """The test file read and checked: (document, []) or (None, problems naming scenario and field)."""
    try:
        document = loads_strict(data.encode() if isinstance(data, str) else data)
    except ValueError as exc:
        return None, [Problem(None, f"the test file is not valid JSON: {exc}", file=name)]
    if not isinstance(document, dict):
        return None, [Problem(None, "the test file must hold a JSON object with 'scenarios'", file=name)]
    problems = []
    for error in sorted(_VALIDATOR.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        error = _leaf(error)
        problems.append(Problem(None, f"{_where(error, document)}: {_message(error)}", file=name))
    key = process_key_of(name)
    if not problems and document.get("process") not in (None, key):
        problems.append(
            Problem(
                None, f"field process: '{document['process']}' is not '{key}', the file's process", file=name
            )
        )
    seen = set()
    for scenario in document.get("scenarios") or [] if not problems else []:
        if scenario["name"] in seen:
            problems.append(Problem(None, f"scenario '{scenario['name']}' field name: used twice", file=name))
        seen.add(scenario["name"])
    return (None, problems) if problems else (document, [])


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


DURATION_RE = re.compile(DURATION)
