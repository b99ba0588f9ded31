"""Playing the person, for both drivers: recipe data per visit, form samples, what to do first.

A task with a form gets the form's defaults and sample values for its required fields, the
recipe's data (`bench/corpus/recipes.py`) laid over them.
"""

import json
from collections import Counter
from pathlib import Path

from bench.corpus.recipes import RECIPES

MAX_ROUNDS = 200
DEFAULT_ORDER = ("task", "message", "timer")


def sample(schema: dict):
    """A value a person could type into a field of this schema."""
    if not isinstance(schema, dict):
        return "sample"
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return sample(schema[key][0])
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        return form_data(schema, {})
    if kind == "array":
        return [sample(schema.get("items", {})) for _ in range(max(int(schema.get("minItems", 0)), 0))]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = schema.get(
            "minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema else 0)
        )
        value = max(low, 1)
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else float(value)
    formats = {
        "date": "2026-01-15",
        "date-time": "2026-01-15T10:00:00+00:00",
        "email": "jane@example.com",
        "uri": "https://example.com",
        "time": "10:00:00",
    }
    text = formats.get(schema.get("format"), "sample")
    return text.ljust(int(schema.get("minLength", 0)), "x")


def form_data(schema: dict | None, recipe: dict) -> dict:
    """Form data: defaults and samples for required fields, the recipe's fields laid over them."""
    data = {}
    if isinstance(schema, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            data[name] = sample(properties.get(name, {}))
        for name, prop in properties.items():
            if isinstance(prop, dict) and "default" in prop and name not in data:
                data[name] = prop["default"]
    data.update(recipe)
    return data


class Recipe:
    """One diagram's recipe, with a visit counter per task for looping diagrams."""

    def __init__(self, diagram_id: str):
        # A variant ("A11-merged") uses the recipe of its diagram unless it has its own.
        self.raw = RECIPES.get(diagram_id) or RECIPES.get(diagram_id.split("-")[0], {})
        self.visits: Counter = Counter()
        self.order = tuple(self.raw.get("order", DEFAULT_ORDER))

    @property
    def start(self) -> dict:
        return dict(self.raw.get("start", {}))

    def task(self, element_id: str) -> dict:
        return self._next("tasks", element_id)

    def message(self, name: str) -> dict:
        return self._next("messages", name)

    def _next(self, section: str, name: str) -> dict:
        """The data for this visit of a task (or delivery of a message); a list gives one per visit."""
        value = self.raw.get(section, {}).get(name, {})
        if isinstance(value, list):
            value = value[min(self.visits[section, name], len(value) - 1)] if value else {}
        self.visits[section, name] += 1
        return dict(value)


def load_form(bundle_forms: dict[str, Path], name: str | None) -> dict | None:
    if not name or name not in bundle_forms:
        return None
    try:
        return json.loads(bundle_forms[name].read_text())
    except (OSError, json.JSONDecodeError):
        return None
