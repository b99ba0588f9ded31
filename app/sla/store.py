"""SLA configuration in the database: team calendars and targets, read and written (no commits).

`calendar_for` and `policy_for` are what the clock counts with; `set_calendar` and `set_policy`
validate before they write, so a broken calendar or target never reaches a ticket.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import String, bindparam, cast, event, func
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import PRIORITIES, BusinessCalendar, BusinessHoliday, SlaPolicy, Team
from app.sla.calendar import WEEKDAYS, Calendar, SlaConfigError, add_business_days

# When a team has no calendar row: Monday to Friday, 09:00-17:00 UTC.
DEFAULT_CALENDAR = Calendar({day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}, "UTC")
# When a ticket type and priority have no policy row: (first response, resolution) in business
# minutes, a business day being 8 business hours, counted on the default calendar.
DEFAULT_TARGETS = {
    "urgent": (4 * 60, 8 * 60),
    "high": (8 * 60, 2 * 8 * 60),
    "normal": (8 * 60, 5 * 8 * 60),
    "low": (2 * 8 * 60, 10 * 8 * 60),
}


@dataclass(frozen=True)
class Targets:
    """What a ticket of one type and priority must meet, in business minutes, and on whose calendar."""

    first_response_minutes: int
    resolution_minutes: int
    team_key: str | None


def calendar_for(team_key: str | None) -> Calendar:
    """The team's business calendar, or DEFAULT_CALENDAR when it has none (or no team is given)."""
    if team_key is None:
        return DEFAULT_CALENDAR
    rows = db.session.execute(_calendar_query(), {"team_key": team_key}).all()
    if not rows:
        return DEFAULT_CALENDAR
    hours, timezone = rows[0].hours, rows[0].timezone
    return Calendar(hours, timezone, {r.day: r.name for r in rows if r.day is not None})


@cache
def _calendar_query():
    """The calendar's hours and zone with its holidays, a row per holiday (one row with none):
    one statement for every new ticket and SLA figure on a team with a calendar; built once."""
    return (
        db.select(
            BusinessCalendar.hours, BusinessCalendar.timezone, BusinessHoliday.day, BusinessHoliday.name
        )
        .outerjoin(BusinessHoliday, BusinessHoliday.calendar_id == BusinessCalendar.id)
        .where(BusinessCalendar.team_key == bindparam("team_key"))
        .order_by(BusinessHoliday.day)
    )


def add_business_days_for_team(team_key: str | None, start_utc: datetime, days: int) -> datetime:
    """`add_business_days` on the team's calendar (the default calendar when it has none)."""
    return add_business_days(calendar_for(team_key), start_utc, days)


def policy_for(ticket_type: str, priority: str) -> Targets:
    """The targets of a ticket type and priority: its sla_policy row, else DEFAULT_TARGETS."""
    known = db.session.info.get(_KNOWN, {}).get(ticket_type)
    if known is not None:  # read with the ticket type in this transaction (`note_policies`)
        row = known.get(priority)
    else:
        row = db.session.execute(_policy_query(), {"ticket_type": ticket_type, "priority": priority}).first()
    if row is not None:
        return Targets(*row)
    first, resolution = DEFAULT_TARGETS.get(priority, DEFAULT_TARGETS["normal"])
    return Targets(first, resolution, None)


# session.info: ticket type -> {priority: (first response, resolution, team)}, as read with the type
_KNOWN = "ticketflow_sla_policies"
# Between the fields of one policy and between policies in `policies_column`: none can be in a
# priority or a number; a team key holding one is not taken (`policy_for` reads it then).
_FIELD, _ENTRY = "\x1f", "\x1e"


def policies_column(ticket_type):
    """The type's policy rows folded into one text column (a scalar subquery correlated on the
    column `ticket_type`), for a start's read of its ticket type to carry: `note_policies` then
    spares `policy_for` its statement. A missing team is "-", a team "+" and its key."""
    team = func.coalesce("+" + SlaPolicy.team_key, "-")
    entry = (
        SlaPolicy.priority
        + _FIELD
        + cast(SlaPolicy.first_response_minutes, String)
        + _FIELD
        + cast(SlaPolicy.resolution_minutes, String)
        + _FIELD
        + team
    )
    return (
        db.select(func.aggregate_strings(entry, _ENTRY))
        .where(SlaPolicy.ticket_type == ticket_type)
        .scalar_subquery()
        .label("sla_policies")
    )


def note_policies(session, ticket_type: str, folded: str | None) -> None:
    """Take the type's policies a start's read carried (`policies_column`) for this transaction."""
    policies = {}
    for entry in folded.split(_ENTRY) if folded else ():
        fields = entry.split(_FIELD, 3)
        if (
            len(fields) != 4
            or fields[0] not in PRIORITIES
            or not (fields[1].isdigit() and fields[2].isdigit())
            or fields[3][:1] not in ("+", "-")
        ):
            return  # not as folded: `policy_for` reads the row itself
        team = fields[3][1:] if fields[3][0] == "+" else None
        policies[fields[0]] = (int(fields[1]), int(fields[2]), team)
    session.info.setdefault(_KNOWN, {})[ticket_type] = policies


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KNOWN, None)


@cache
def _policy_query():
    """The three figures of a policy row (every new ticket asks); built once."""
    return db.select(
        SlaPolicy.first_response_minutes, SlaPolicy.resolution_minutes, SlaPolicy.team_key
    ).where(SlaPolicy.ticket_type == bindparam("ticket_type"), SlaPolicy.priority == bindparam("priority"))


def set_calendar(
    team_key: str, hours: dict, timezone: str = "UTC", holidays: dict[date | str, str] | None = None
) -> BusinessCalendar:
    """Create or replace a team's calendar (hours, zone and the whole holiday list); the caller commits.

    Raises:
        SlaConfigError: unknown team, or a calendar that cannot work (see `Calendar`).
    """
    calendar = _validated(lambda: Calendar(hours, timezone, holidays), team_key)
    row = db.session.execute(
        db.select(BusinessCalendar).where(BusinessCalendar.team_key == team_key)
    ).scalar()
    if row is None:
        row = BusinessCalendar(team_key=team_key)
        db.session.add(row)
    row.timezone = calendar.timezone
    row.hours = {day: [list(span) for span in spans] for day, spans in calendar.hours.items()}
    row.holidays = []
    db.session.flush()  # old holidays go before new ones arrive: (calendar, day) is unique
    row.holidays = [BusinessHoliday(day=day, name=name) for day, name in sorted(calendar.holidays.items())]
    db.session.flush()
    return row


def set_policy(
    ticket_type: str,
    priority: str,
    first_response_minutes: int,
    resolution_minutes: int,
    team_key: str | None = None,
) -> SlaPolicy:
    """Create or replace the targets of a ticket type and priority; the caller commits.

    Tickets already open keep the target they started with.

    Raises:
        SlaConfigError: naming the field (unknown priority or team, minutes not a positive whole number).
    """
    errors = {}
    if not isinstance(ticket_type, str) or not ticket_type.strip():
        errors["ticket_type"] = "a ticket type is required"
    if priority not in PRIORITIES:
        errors["priority"] = f"must be one of {', '.join(PRIORITIES)}"
    for name, value in (
        ("first_response_minutes", first_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            errors[name] = f"must be a positive whole number of business minutes, got {value!r}"
    if team_key is not None and not _team_exists(team_key):
        errors["team_key"] = f"no team '{team_key}'"
    if errors:
        raise SlaConfigError(errors)
    db.session.info.pop(_KNOWN, None)  # this transaction changes them: read them again
    row = db.session.execute(
        db.select(SlaPolicy).where(SlaPolicy.ticket_type == ticket_type, SlaPolicy.priority == priority)
    ).scalar()
    if row is None:
        row = SlaPolicy(ticket_type=ticket_type, priority=priority)
        db.session.add(row)
    row.first_response_minutes, row.resolution_minutes = first_response_minutes, resolution_minutes
    row.team_key = team_key
    db.session.flush()
    return row


def _validated(build, team_key: str) -> Calendar:
    errors = {} if _team_exists(team_key) else {"team_key": f"no team '{team_key}'"}
    try:
        calendar = build()
    except SlaConfigError as exc:
        errors.update(exc.errors)
    if errors:
        raise SlaConfigError(errors)
    return calendar


def _team_exists(team_key: str) -> bool:
    return db.session.execute(db.select(Team.id).where(Team.key == team_key)).scalar() is not None
