"""Server-side validation of submitted data against a task's JSON Schema form."""

import json
from functools import lru_cache

from jsonschema import Draft202012Validator

from app.engine.errors import InvalidData

RESERVED_KEY = "typename"  # SpiffWorkflow's serializer would treat such dicts as objects
MAX_DEPTH = 20


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
    return error.message


def check_plain_data(data, field: str = "data") -> None:
    """Reject data the serializer could misread: non-objects, 'typename' keys, deep nesting."""
    if not isinstance(data, dict):
        raise InvalidData({field: "must be a JSON object"})
    stack = [(data, field, 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidData({where: "nested too deeply"})
        if isinstance(value, dict):
            for key, item in value.items():
                if key == RESERVED_KEY:
                    raise InvalidData({f"{where}.{key}": "'typename' is a reserved field name"})
                if not isinstance(key, str) or key.startswith("_"):
                    raise InvalidData({f"{where}.{key}": "field names must not start with '_'"})
                stack.append((item, f"{where}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def validate(schema: dict | None, data) -> dict:
    """Check `data` against `schema`; returns the data, raises InvalidData with field errors."""
    check_plain_data(data)
    if schema is None:
        if data:
            raise InvalidData({"data": "this task has no form; send an empty object"})
        return data
    errors = {}
    for error in _validator(json.dumps(schema, sort_keys=True)).iter_errors(data):
        errors.setdefault(_field_of(error), _message_of(error))
    if errors:
        raise InvalidData(errors)
    return data
