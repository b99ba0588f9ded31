"""Server-side checks of process data: a task's JSON Schema form, or the rules for formless data."""

import json
import keyword
from functools import lru_cache

from flask import current_app
from jsonschema import Draft202012Validator

from app.engine.errors import InvalidData

RESERVED_KEY = "typename"  # SpiffWorkflow's serializer would treat such dicts as objects
MAX_DEPTH = 32  # nested objects and lists, the top object counting as 1
DEFAULT_MAX_PROCESS_DATA_BYTES = 64 * 1024
# The names start_process puts into every instance's data (app/engine/tickets.py engine_data);
# data sent without a form may not set them. tests/api/test_process_data.py keeps both in step.
ENGINE_NAMES = frozenset(
    {
        "ticket_id",
        "ticket_type",
        "subject",
        "priority",
        "customer",
        "feedback_delay",
        "feedback_reminder_delay",
        "feedback_deadline_delay",
    }
)


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _field_of(error) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    elif error.validator == "additionalProperties" and "'" in error.message:
        path.append(error.message.split("'")[1])
    return ".".join(p for p in path if p) or "data"


def _message_of(error) -> str:
    if error.validator == "required":
        return "this field is required"
    if error.validator == "additionalProperties":
        return "this field is not part of the form"
    return _READABLE.get(error.validator, lambda e: e.message)(error)


def _readable_limit(word: str):
    return lambda e: (
        f"must be {word} {e.validator_value:g}" if isinstance(e.validator_value, (int, float)) else e.message
    )


_TYPES = {
    "number": "a number",
    "integer": "a whole number",
    "string": "text",
    "boolean": "yes or no",
    "array": "a list",
    "object": "a group of fields",
}
# The forms' parser (app/web/forms.py) says the same for what it cannot read as a date.
_FORMATS = {
    "date": "a date (YYYY-MM-DD)",
    "date-time": "a date and time (YYYY-MM-DDTHH:MM)",
    "email": "an e-mail address",
}
# Messages a person can read next to a form field (the API answers with the same).
_READABLE = {
    "minLength": lambda e: (
        "this field is required"
        if e.validator_value == 1
        else f"must be at least {e.validator_value} characters"
    ),
    "maxLength": lambda e: f"must be at most {e.validator_value} characters",
    "minimum": _readable_limit("at least"),
    "maximum": _readable_limit("at most"),
    "exclusiveMinimum": _readable_limit("more than"),
    "exclusiveMaximum": _readable_limit("less than"),
    "minItems": lambda e: f"add at least {e.validator_value} item{'s' if e.validator_value != 1 else ''}",
    "maxItems": lambda e: f"at most {e.validator_value} items",
    "enum": lambda e: "choose one of: " + ", ".join(str(v) for v in e.validator_value),
    "const": lambda e: "must be ticked" if e.validator_value is True else f"must be {e.validator_value!r}",
    "type": lambda e: (
        "must be " + _TYPES.get(e.validator_value, str(e.validator_value))
        if isinstance(e.validator_value, str)
        else e.message
    ),
    "format": lambda e: "must be " + _FORMATS.get(e.validator_value, f"a valid {e.validator_value}"),
}


def with_field_order(schema):
    """Record each object's property order as `x-order`: PostgreSQL's JSONB does not keep key order."""
    if isinstance(schema, list):
        return [with_field_order(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ordered = {key: with_field_order(value) for key, value in schema.items()}
    if isinstance(schema.get("properties"), dict) and "x-order" not in schema:
        ordered["x-order"] = list(schema["properties"])
    return ordered


def check_plain_data(data, field: str = "data") -> None:
    """Reject data the serializer could misread: non-objects, 'typename' keys, deep nesting."""
    if not isinstance(data, dict):
        raise InvalidData({field: "must be a JSON object"})
    stack = [(data, field, 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            raise InvalidData({where: f"nested too deeply (at most {MAX_DEPTH} levels of objects and lists)"})
        if isinstance(value, dict):
            for key, item in value.items():
                if key == RESERVED_KEY:
                    raise InvalidData({f"{where}.{key}": "'typename' is a reserved field name"})
                if not isinstance(key, str) or key.startswith("_"):
                    raise InvalidData({f"{where}.{key}": "field names must not start with '_'"})
                stack.append((item, f"{where}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def check_formless_data(data: dict) -> None:
    """The rules for data sent without a form (merged into the process data as it is).

    Top-level names must be identifiers that are not Python keywords (expressions in the diagram
    read them as variables) and not names the engine sets (ENGINE_NAMES); the whole object must
    serialize to at most MAX_PROCESS_DATA_BYTES. Call check_plain_data first.
    """
    for key in data:
        if key in ENGINE_NAMES:
            raise InvalidData(
                {key: f"'{key}' is set by the engine; choose another name"}, "the data uses a reserved name"
            )
        if not key.isidentifier() or keyword.iskeyword(key):
            raise InvalidData(
                {
                    key: "field names must be identifiers (letters, digits and '_', "
                    "not starting with a digit) and not Python keywords"
                },
                "the data has a field name expressions cannot read",
            )
    limit = current_app.config.get("MAX_PROCESS_DATA_BYTES", DEFAULT_MAX_PROCESS_DATA_BYTES)
    size = _size(data)
    if size > limit:
        largest = max(data, key=lambda k: _size(data[k]))
        raise InvalidData(
            {
                "data": f"{size} bytes as JSON, over the limit of {limit} bytes "
                f"(the largest field is '{largest}')"
            },
            "the data is too large",
        )


def _size(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def validate(schema: dict | None, data) -> dict:
    """Check `data` against `schema`, or the formless rules when there is no form.

    Returns the data; raises InvalidData with field errors.
    """
    check_plain_data(data)
    if schema is None:
        check_formless_data(data)
        return data
    errors = {}
    for error in _validator(json.dumps(schema, sort_keys=True)).iter_errors(data):
        errors.setdefault(_field_of(error), _message_of(error))
    if errors:
        raise InvalidData(errors)
    return data
