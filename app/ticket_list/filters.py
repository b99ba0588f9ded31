"""The ticket list's filters and sort order, read from a query string the same way for the
dashboard page, its CSV export and `GET /api/v1/tickets` (same parameter names): a value that
cannot be used is a 422 naming its parameter (app.inputs.OutOfRange)."""

import re
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta

from app.inputs import INT_MAX, OutOfRange
from app.models import FIELD_NAME_MAX, PRIORITIES

MAX_TEXT = 128  # characters of a type, status, team or field value
MAX_FIELDS = 5  # `field=name:value` filters in one request
SLA_STATES = {
    "on_track": "On track",
    "at_risk": "At risk",
    "breached": "Breached",
    "met": "Met",
    "paused": "Paused",
}
# Where a ticket stands, derived from its status and its instance's rows (app.ticket_list.conditions).
STATES = {
    "open": "Open",
    "waiting_customer": "Waiting on customer",
    "waiting_timer": "Waiting on a timer",
    "incident": "Incident",
    "closed": "Closed",
    "cancelled": "Cancelled",
}
# Sortable columns; `-name` sorts descending. The id breaks ties, so every order is stable.
SORTS = (
    "id",
    "subject",
    "type",
    "status",
    "priority",
    "sla",
    "team",
    "customer",
    "created",
    "updated",
    "closed",
)
DEFAULT_SORT = "-created"
_FIELD_NAME = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{FIELD_NAME_MAX - 1}}}")
# Parameters only staff may use (a customer's token sees their own tickets and their states only).
STAFF_ONLY = ("team", "assignee_id", "customer")


@dataclass(frozen=True)
class TicketFilters:
    """What the caller asked for; empty values mean "any"."""

    type: str = ""
    version: int | None = None
    status: str = ""
    state: str = ""
    team: str = ""
    assignee_id: int | None = None
    sla: str = ""
    priority: str = ""
    customer_id: int | None = None
    customer: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    closed_from: datetime | None = None
    closed_to: datetime | None = None
    order_number: str = ""
    fields: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    sort: str = DEFAULT_SORT

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "sort")

    def as_args(self, **changes) -> dict:
        """Query-string arguments that give these filters back (for links, the pager and the CSV)."""
        values = replace(self, **changes) if changes else self
        args: dict = {}
        for f in fields(values):
            value = getattr(values, f.name)
            if f.name == "fields":
                if value:
                    args["field"] = [f"{name}:{text}" for name, text in value]
            elif f.name.endswith(("_from", "_to")):
                if value is not None:
                    args[f.name] = value.isoformat().replace("+00:00", "Z")
            elif f.name == "sort":
                if value != DEFAULT_SORT:
                    args["sort"] = value
            elif value not in ("", None):
                args[f.name] = value
        return args

    def sorted_by(self, column: str) -> str:
        """The sort a column header links to: its column, flipped when it is the current one."""
        if self.sort_key == column:
            return column if self.descending else f"-{column}"
        return f"-{column}" if column in ("created", "updated", "closed", "id", "sla") else column


def parse_filters(args, *, staff: bool = True, strict: bool = False) -> TicketFilters:
    """The filters in `args` (a MultiDict); OutOfRange (422) naming the first bad parameter.

    A page's form sends its empty fields as blank parameters ("any"); the API (`strict`) refuses
    a blank parameter instead, so a client's mistake does not widen its list unnoticed.
    """
    if strict:
        for name in (*PARAMETERS, "field"):
            if any(not value.strip() for value in args.getlist(name)):
                raise OutOfRange(name, "must not be empty (leave the parameter out for any)")
    if not staff:
        for name in STAFF_ONLY:
            if args.get(name):
                raise OutOfRange(name, "only staff may filter on this")
    found = TicketFilters(
        type=_text(args, "type"),
        version=_int(args, "version", minimum=1),
        status=_text(args, "status"),
        state=_choice(args, "state", tuple(STATES)),
        team=_text(args, "team"),
        assignee_id=_int(args, "assignee_id"),
        sla=_choice(args, "sla", tuple(SLA_STATES)),
        priority=_choice(args, "priority", PRIORITIES),
        customer_id=_int(args, "customer_id"),
        customer=_text(args, "customer"),
        created_from=_instant(args, "created_from"),
        created_to=_instant(args, "created_to", end_of_day=True),
        closed_from=_instant(args, "closed_from"),
        closed_to=_instant(args, "closed_to", end_of_day=True),
        order_number=_text(args, "order_number"),
        fields=_fields(args),
        sort=_sort(args),
    )
    if found.version is not None and not found.type:
        raise OutOfRange("version", "filter on a type to choose one of its versions")
    return found


# Every parameter the filters read (besides the repeatable `field`).
PARAMETERS = tuple(f.name for f in fields(TicketFilters) if f.name != "fields")


def _text(args, name: str) -> str:
    value = args.get(name) or ""
    if len(value) > MAX_TEXT:
        raise OutOfRange(name, f"must be at most {MAX_TEXT} characters")
    return value.strip()


def _int(args, name: str, minimum: int = 0) -> int | None:
    raw = args.get(name) or ""
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not minimum <= int(raw) <= INT_MAX:
        raise OutOfRange(name, f"must be a whole number from {minimum} to {INT_MAX}")
    return int(raw)


def _choice(args, name: str, allowed: tuple[str, ...]) -> str:
    value = args.get(name) or ""
    if value and value not in allowed:
        raise OutOfRange(name, f"must be one of {', '.join(allowed)}")
    return value


def _sort(args) -> str:
    value = args.get("sort") or DEFAULT_SORT
    if value.lstrip("-") not in SORTS or value.startswith("--"):
        raise OutOfRange("sort", f"must be one of {', '.join(SORTS)}, each optionally after '-' (descending)")
    return value


def _instant(args, name: str, end_of_day: bool = False) -> datetime | None:
    """A date (YYYY-MM-DD, the whole day in UTC) or an ISO 8601 date-time (UTC when no offset)."""
    raw = args.get(name) or ""
    if not raw:
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            value = datetime.combine(date.fromisoformat(raw), time(), UTC)
            if not 1900 <= value.year <= 9998:
                raise OutOfRange(name, "must be a date between the years 1900 and 9998")
            return value + timedelta(days=1) - timedelta(microseconds=1) if end_of_day else value
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?", raw):
            raise ValueError(raw)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise OutOfRange(name, "must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if not 1900 <= value.year <= 9998:
        raise OutOfRange(name, "must be a date between the years 1900 and 9998")
    return value


def _fields(args) -> tuple[tuple[str, str], ...]:
    """`field=name:value` filters on start-form fields (repeatable)."""
    found = []
    for raw in args.getlist("field"):
        if not raw.strip():
            continue
        name, colon, value = raw.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name) or not value.strip() or len(value) > MAX_TEXT:
            raise OutOfRange(
                "field",
                f"must be name:value (a start-form field name and a value of at most {MAX_TEXT} characters)",
            )
        found.append((name, value.strip()))
    if len(found) > MAX_FIELDS:
        raise OutOfRange("field", f"at most {MAX_FIELDS} field filters")
    return tuple(found)
