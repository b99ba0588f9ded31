"""The OpenAPI description of `GET /api/v1/tickets`: its filter parameters and its page."""

from app.api.openapi_parts import NULLABLE_TIME, QUERY_TEXT, obj, query, ref, text, whole
from app.models import FIELD_NAME_MAX, PRIORITIES
from app.ticket_list import SLA_STATES, SORTS, STATES
from app.ticket_list.filters import MAX_FIELDS, MAX_TEXT

INSTANT = "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
_CHAR = "[^\\u0000-\\u001f\\u007f]"  # no control characters (app.inputs refuses them: 400)
FIELD = f"^[A-Za-z_][A-Za-z0-9_]{{0,{FIELD_NAME_MAX - 1}}}:{_CHAR}*[^\\u0000-\\u001f\\u007f ]{_CHAR}*$"


def _filter_text(description: str) -> dict:
    return text(MAX_TEXT, QUERY_TEXT, minLength=1, description=description)


def _instant(description: str) -> dict:
    return text(
        40,
        INSTANT,
        description=description + ": a date (YYYY-MM-DD, the whole day in UTC) or an ISO 8601 date-time "
        "(UTC when it has no offset)",
    )


def ticket_list_parameters() -> list[dict]:
    return [
        query("type", "only tickets of this type (process key)", _filter_text("process key")),
        query("version", "only tickets started on this version of `type` (needs `type`)", whole(minimum=1)),
        query(
            "status", "only tickets with this status (e.g. new, in_progress, closed)", _filter_text("status")
        ),
        query(
            "state",
            "where the ticket stands: open (has open tasks or is running), waiting_customer (waits for "
            "a message), waiting_timer (waits for a timer), incident (a step failed for good), closed, "
            "cancelled",
            {"type": "string", "enum": list(STATES)},
        ),
        query(
            "team",
            "only tickets of this team (its SLA team, or an open task of the team; staff only)",
            _filter_text("team key"),
        ),
        query("assignee_id", "only tickets with an open task assigned to this user (staff only)", whole()),
        query(
            "sla",
            "SLA state: on_track, at_risk (less than a quarter of the target or an hour left, wall clock), "
            "breached, met, paused",
            {"type": "string", "enum": list(SLA_STATES)},
        ),
        query("priority", "only tickets of this priority", {"type": "string", "enum": list(PRIORITIES)}),
        query("customer_id", "only this customer's tickets", whole()),
        query(
            "customer",
            "customers whose name or e-mail starts with this (any case; staff only)",
            _filter_text("name or e-mail prefix"),
        ),
        query("created_from", "created at or after", _instant("from")),
        query("created_to", "created at or before (a date: up to its end)", _instant("to")),
        query("closed_from", "closed at or after", _instant("from")),
        query("closed_to", "closed at or before (a date: up to its end)", _instant("to")),
        query(
            "order_number",
            "the start form's order number (exact, any case)",
            _filter_text("order number"),
        ),
        {
            **query(
                "field",
                "a start-form field's value, `name:value` (exact after trimming, any case; numbers as "
                "JSON writes them, booleans true/false); repeat for several (AND)",
                {
                    "type": "array",
                    "maxItems": MAX_FIELDS,
                    "items": text(FIELD_NAME_MAX + 1 + MAX_TEXT, FIELD),
                },
            ),
            "style": "form",
            "explode": True,
        },
        query(
            "sort",
            "the column to sort on, `-column` for descending; ties are broken by id (default -created)",
            {"type": "string", "enum": [v for s in SORTS for v in (s, f"-{s}")]},
        ),
        query("limit", "page size", whole(200, 1, default=50)),
        query("offset", "tickets to skip", whole(1_000_000, default=0)),
    ]


def ticket_page() -> dict:
    item = {
        "allOf": [
            ref("Ticket"),
            obj(
                {
                    "version": {"type": ["integer", "null"], "description": "the version its process runs"},
                    "state": {"type": "string", "enum": list(STATES)},
                    "sla": obj(
                        {
                            "state": {"type": ["string", "null"], "enum": [*SLA_STATES, None]},
                            "due_at": NULLABLE_TIME,
                        }
                    ),
                    "closed_at": NULLABLE_TIME,
                    "customer_name": {"type": "string", "description": "staff only"},
                    "teams": {"type": "array", "items": {"type": "string"}, "description": "staff only"},
                    "assignees": {"type": "array", "items": {"type": "string"}, "description": "staff only"},
                },
                required=("version", "state", "sla", "closed_at"),
            ),
        ]
    }
    return obj(
        {
            "tickets": {"type": "array", "items": item},
            "total": {"type": "integer", "description": "tickets matching the filters"},
            "counts": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "status to number of matching tickets",
            },
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "next_offset": {
                "type": ["integer", "null"],
                "description": "the next page's offset; null on the last",
            },
        }
    )
