"""A ticket's request as people read it: every start-form field with its title and its answer.

The customer sees what they submitted on their portal page; agents see the whole request on the
task and ticket pages, optional fields included, unanswered ones marked.
"""

from dataclasses import dataclass

from app.extensions import db
from app.models import ProcessDefinition, ProcessInstance, Ticket
from app.web.forms import ordered_properties

NOT_GIVEN = None


@dataclass
class Answer:
    name: str
    title: str
    value: str | list[str] | None  # None: not answered


def start_form_of(ticket: Ticket) -> dict | None:
    """The start form the ticket was opened with (frozen with its first instance's definition)."""
    row = db.session.execute(
        db.select(ProcessDefinition.forms, ProcessDefinition.start_form)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.ticket_id == ticket.id)
        .order_by(ProcessInstance.id)
        .limit(1)
    ).first()
    if row is None or not row.start_form:
        return None
    form = (row.forms or {}).get(row.start_form)
    return form if isinstance(form, dict) else None


def request_answers(ticket: Ticket) -> list[Answer]:
    """Every field of the ticket's start form, in form order, with the answer given (or None)."""
    schema = start_form_of(ticket)
    data = ticket.data if isinstance(ticket.data, dict) else {}
    if schema is None:  # a formless type: the fields as they came
        return [Answer(name, name.replace("_", " ").capitalize(), _text({}, data[name])) for name in data]
    return [
        Answer(
            name, str(prop.get("title") or name.replace("_", " ").capitalize()), _text(prop, data.get(name))
        )
        for name, prop in ordered_properties(schema)
        if isinstance(prop, dict)
    ]


def _text(schema: dict, value) -> str | list[str] | None:
    """An answer as text: choices by their label, yes/no, one line per row of a list; None when empty."""
    if value is None or value == "" or value == [] or value == {}:
        return NOT_GIVEN
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        rows = [_one_line(items, item) for item in value]
        return [row for row in rows if row] or NOT_GIVEN
    if isinstance(value, dict):
        return _one_line(schema, value)
    if "enum" in schema:
        return _choice(schema, value)
    if isinstance(value, float) and schema.get("x-widget") == "money":
        return f"{value:,.2f}"
    return str(value)


def _one_line(schema: dict, value) -> str:
    if not isinstance(value, dict):
        text = _text(schema, value)
        return ", ".join(text) if isinstance(text, list) else (text or "")
    props = dict(ordered_properties(schema)) if isinstance(schema.get("properties"), dict) else {}
    parts = []
    for name, item in value.items():
        prop = props.get(name) if isinstance(props.get(name), dict) else {}
        text = _text(prop, item)
        if text is not None:
            shown = ", ".join(text) if isinstance(text, list) else text
            parts.append(f"{prop.get('title') or name}: {shown}")
    return "; ".join(parts)


def _choice(schema: dict, value) -> str:
    names = schema.get("x-enumNames") or schema.get("enumNames") or []
    options = schema.get("enum") or []
    if value in options and isinstance(names, list) and options.index(value) < len(names):
        return str(names[options.index(value)])
    return str(value).replace("_", " ").capitalize()
