"""Business calendars as pure functions: working hours per weekday, holidays, an IANA time zone.

Working hours and holidays are wall-clock times and dates in the calendar's zone; every instant
going in or out is an aware UTC datetime. Business time is real elapsed time inside working
hours, so the hour lost or gained at a daylight-saving change counts as it really passed.
Nothing here touches the database: `app/sla/store.py` builds calendars from rows.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
# A calendar whose working time lies further away than this (holidays covering years) is unusable.
MAX_SEARCH_DAYS = 5 * 366


class SlaConfigError(ValueError):
    """A calendar or SLA target that cannot work; `.errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class Calendar:
    """Working hours per weekday (`{"mon": [["09:00", "17:00"]], ...}`), holidays, a time zone.

    A range whose end is not after its start runs past midnight into the next day
    (`["22:00", "06:00"]`); `"24:00"` ends a range at midnight. Holidays are whole local dates
    without working time, including the part of a night shift that falls on them. Building a
    calendar validates it and raises SlaConfigError naming every wrong field; a calendar
    without any working time is refused.
    """

    hours: Mapping[str, Sequence[Sequence[str]]]
    timezone: str = "UTC"
    holidays: Mapping[date, str] = field(default_factory=dict)
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    # Per weekday (Monday = 0): merged (start minute, end minute) ranges within the local day.
    week: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        zone = _zone(self.timezone, errors)
        week = _week(self.hours, errors)
        holidays = _holidays(self.holidays, errors)
        if not any(week) and not any(name.startswith("hours") for name in errors):
            errors["hours"] = "the calendar has no working time; give at least one weekday's hours"
        if errors:
            raise SlaConfigError(errors)
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "holidays", holidays)


def add_business_time(calendar: Calendar, start_utc: datetime, seconds: float) -> datetime:
    """The instant when `seconds` of working time have passed after `start_utc`.

    Counting starts at the next opening when `start_utc` is outside working hours; a sum that
    ends exactly at closing time gives the closing instant, not the next opening.

    Raises:
        ValueError: naive datetime or negative seconds; SlaConfigError when no working time
            exists within MAX_SEARCH_DAYS.
    """
    start = _utc(start_utc)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    left = timedelta(seconds=seconds)
    if not left:
        return start
    for opens, closes in _intervals_from(calendar, start):
        if left <= closes - opens:
            return opens + left
        left -= closes - opens
    raise AssertionError("unreachable: _intervals_from raises when it runs out")


def business_seconds_between(calendar: Calendar, a_utc: datetime, b_utc: datetime) -> int:
    """Whole seconds of working time from `a_utc` to `b_utc` (negative when b is before a)."""
    a, b = _utc(a_utc), _utc(b_utc)
    if b < a:
        return -business_seconds_between(calendar, b, a)
    total = timedelta()
    last_day = b.astimezone(calendar.zone).date() + timedelta(days=1)
    for opens, closes in _intervals_from(calendar, a, until=last_day):
        if opens >= b:
            break
        total += min(closes, b) - opens
    return int(total.total_seconds())


def add_business_days(calendar: Calendar, start_utc: datetime, days: int) -> datetime:
    """The same wall-clock time `days` working days later, or the next opening after it.

    A start outside working hours first moves to the next opening, so Saturday 11:00 plus one
    day is Tuesday 09:00 on a Monday-to-Friday 09:00-17:00 calendar. A working day is a local
    date with working time (not a holiday). Zero days gives the next opening.

    Raises:
        ValueError: naive datetime or negative days.
    """
    if not isinstance(days, int) or days < 0:
        raise ValueError("days must be a whole number, not negative")
    local = next_opening(calendar, start_utc).astimezone(calendar.zone)
    day = local.date()
    for _ in range(days):
        day = _next_working_day(calendar, day)
    wall = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=calendar.zone)
    return next_opening(calendar, wall.astimezone(UTC))


def next_opening(calendar: Calendar, at_utc: datetime) -> datetime:
    """`at_utc` itself when it is within working hours, else the start of the next working range."""
    at = _utc(at_utc)
    opens, _ = next(_intervals_from(calendar, at))
    return opens


def is_working_day(calendar: Calendar, day: date) -> bool:
    """Whether a local date has working time (a holiday has none)."""
    return bool(_day_intervals(calendar, day))


# -- internals ---------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError(f"an aware UTC datetime is required, got {moment!r}")
    return moment.astimezone(UTC)


def _local_instant(calendar: Calendar, day: date, minute: int) -> datetime:
    """Local wall time `minute` minutes after the start of `day`, as UTC.

    A wall time skipped by a DST change maps forward (02:30 on a spring-forward night is 03:30),
    an ambiguous one to its first occurrence.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=calendar.zone).astimezone(UTC)


def _day_intervals(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    if day in calendar.holidays:
        return []
    found = []
    for start, end in calendar.week[day.weekday()]:
        opens, closes = _local_instant(calendar, day, start), _local_instant(calendar, day, end)
        if closes > opens:  # a range inside a skipped DST hour has no length
            found.append((opens, closes))
    return found


def _intervals_from(
    calendar: Calendar, start: datetime, until: date | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Working ranges (clipped to begin no earlier than `start`) in time order.

    Stops after the local date `until`; without one, raises SlaConfigError when no working time
    turns up within MAX_SEARCH_DAYS.
    """
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    barren = 0
    while until is None or day <= until:
        found = False
        for opens, closes in _day_intervals(calendar, day):
            if closes > start:
                found = True
                yield max(opens, start), closes
        barren = 0 if found else barren + 1
        if until is None and barren > MAX_SEARCH_DAYS:
            raise SlaConfigError({"holidays": f"no working time within {MAX_SEARCH_DAYS} days"})
        day += timedelta(days=1)


def _next_working_day(calendar: Calendar, day: date) -> date:
    for _ in range(MAX_SEARCH_DAYS):
        day += timedelta(days=1)
        if is_working_day(calendar, day):
            return day
    raise SlaConfigError({"holidays": f"no working day within {MAX_SEARCH_DAYS} days"})


def _zone(name: object, errors: dict[str, str]) -> ZoneInfo | None:
    try:
        if not isinstance(name, str) or not name:
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'"
        return None


def _minute(text: object, allow_midnight_end: bool) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValueError
    hours, minutes = int(text[:2]), int(text[3:])
    if allow_midnight_end and (hours, minutes) == (24, 0):
        return DAY_MINUTES
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError
    return hours * 60 + minutes


def _week(hours: object, errors: dict[str, str]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Parse the weekday ranges, split night shifts at midnight, merge overlaps."""
    ranges: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    if not isinstance(hours, Mapping):
        errors["hours"] = 'must map weekdays to ranges, e.g. {"mon": [["09:00", "17:00"]]}'
        return tuple(() for _ in WEEKDAYS)
    for name, spans in hours.items():
        if name not in WEEKDAYS:
            errors[f"hours.{name}"] = f"unknown weekday; use {', '.join(WEEKDAYS)}"
            continue
        index = WEEKDAYS.index(name)
        if not isinstance(spans, Sequence) or isinstance(spans, str):
            errors[f"hours.{name}"] = 'must be a list of ["HH:MM", "HH:MM"] ranges'
            continue
        for number, span in enumerate(spans):
            try:
                if isinstance(span, str) or len(span) != 2:
                    raise ValueError
                start, end = _minute(span[0], False), _minute(span[1], True)
            except (TypeError, ValueError):
                errors[f"hours.{name}[{number}]"] = (
                    f'must be ["HH:MM", "HH:MM"] (00:00 to 24:00), got {span!r}'
                )
                continue
            if end == start:
                errors[f"hours.{name}[{number}]"] = "a range must not start and end at the same time"
            elif end > start:
                ranges[index].append((start, end))
            else:  # runs past midnight: the rest belongs to the next weekday
                ranges[index].append((start, DAY_MINUTES))
                if end:
                    ranges[(index + 1) % 7].append((0, end))
    return tuple(_merged(day) for day in ranges)


def _merged(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _holidays(holidays: object, errors: dict[str, str]) -> dict[date, str]:
    if holidays is None:
        return {}
    if not isinstance(holidays, Mapping):
        errors["holidays"] = 'must map dates to names, e.g. {"2026-12-25": "Christmas Day"}'
        return {}
    found = {}
    for day, name in holidays.items():
        try:
            parsed = (
                day if isinstance(day, date) and not isinstance(day, datetime) else date.fromisoformat(day)
            )
        except (TypeError, ValueError):
            errors[f"holidays.{day}"] = "must be a date (YYYY-MM-DD)"
            continue
        if not isinstance(name, str) or not name.strip():
            errors[f"holidays.{day}"] = "needs a name"
            continue
        found[parsed] = name.strip()
    return found
