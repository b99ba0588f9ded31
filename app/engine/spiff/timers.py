"""Timer values and due times of waiting timer events, read and forced by our clock.

Timer values are written as aware UTC so the same diagram fires at the same instant on every
machine; the worker decides a timer is due and forces the library's due value accordingly.
"""

import re
from datetime import UTC, date, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from app.engine.spiff.catches import timer_catch


def utc_timer_value(kind: str, value: str) -> str:
    """A checked timer value with each date in it written as aware UTC; a naive date is UTC.

    SpiffWorkflow reads a naive date in the machine's zone (its LOCALTZ, fixed at import), so
    the same diagram would fire at different instants on differently configured machines.
    """
    if kind == "date":
        return _utc_date(value)
    if kind == "cycle":  # R<n>/<start>/<duration>, R<n>/<duration>/<end>, R<n>/<duration>
        parts = value.replace("--", "/").split("/")
        return "/".join(p if p.upper().startswith(("R", "P")) else _utc_date(p) for p in parts)
    return value


def _utc_date(text: str) -> str:
    week = re.fullmatch(r"(\d{4})-?W(\d{2})-?(\d)(T.+)?", text.strip(), re.IGNORECASE)
    try:
        if week:
            day = date.fromisocalendar(int(week[1]), int(week[2]), int(week[3]))
            when = datetime.fromisoformat(day.isoformat() + (week[4] or "").upper())
        else:
            when = datetime.fromisoformat(text.strip())
    except ValueError:  # a form only the library reads: leave it to the library
        return text
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()


def timer_due(task) -> datetime | None:
    """When a WAITING timer catch event (or event-based gateway) is due (aware UTC), or None."""
    definition = (timer_catch(task) or (None,))[0]
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        return None if value["cycles"] == 0 else datetime.fromisoformat(value["next"])
    if isinstance(definition, TimeDateEventDefinition):
        return TimerEventDefinition.parse_time_or_duration(value)
    return TimerEventDefinition.get_datetime(value)


def force_timer_due(task, when: datetime) -> None:
    """Make a waiting timer due at `when` (the worker decided it is due by our clock)."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value["next"] = when.isoformat()
    else:
        task.internal_data["event_value"] = when.isoformat()


def cycle_state(task) -> tuple[int, float] | None:
    """(rounds left, period in seconds) of a waiting cycle timer; None otherwise or when done."""
    value = task.internal_data.get("event_value")
    return (value["cycles"], value["duration"]) if isinstance(value, dict) else None


def keep_cycle_schedule(task, due: datetime) -> None:
    """After a forced cycle round, put the next round one period after `due`, where it belongs."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict) and value.get("cycles"):
        value["next"] = (due + timedelta(seconds=value["duration"])).isoformat()
