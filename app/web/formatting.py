"""How pages show dates and times: one Jinja filter, `when`, in the viewer's time zone with the zone named.

    {{ ticket.created_at|when }}            -> "02 Dec 2026 15:14 CET"
    {{ ticket.created_at|when('date') }}    -> "02 Dec 2026"
    {{ task.due_at|when('relative') }}      -> "in 3 hours" / "2 days ago"

The viewer's zone is their `timezone` setting (an IANA name, e.g. "Europe/Berlin"), else the
configured DEFAULT_TIMEZONE. JSON APIs and `<time datetime=…>` attributes keep ISO 8601 in UTC
(`iso` filter); only what people read goes through `when`.
"""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Flask, current_app, g, has_request_context
from flask_login import current_user
from markupsafe import Markup, escape

from app.clock import utcnow

STYLES = ("datetime", "date", "time", "relative", "text")
# An ISO 8601 time inside free text (instructions rendered by the engine): "2026-12-02T15:14:18.521260+00:00".
ISO_IN_TEXT = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
DATE_FORMAT = "%d %b %Y"
DATETIME_FORMAT = "%d %b %Y %H:%M %Z"
FALLBACK_ZONE = "Europe/Berlin"


def valid_zone(name: str) -> ZoneInfo | None:
    """The zone of an IANA name ("Europe/Berlin"), None when zoneinfo does not know it."""
    name = (name or "").strip()
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_names() -> list[str]:
    """Every IANA zone name zoneinfo knows, sorted (for the settings page's choice list)."""
    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")


def default_zone() -> ZoneInfo:
    """The configured DEFAULT_TIMEZONE (Europe/Berlin when unset or unknown)."""
    name = current_app.config.get("DEFAULT_TIMEZONE", FALLBACK_ZONE) if current_app else FALLBACK_ZONE
    return valid_zone(name) or ZoneInfo(FALLBACK_ZONE)


def viewer_zone() -> ZoneInfo:
    """The signed-in person's zone, else the default; looked up once per request."""
    if not has_request_context():
        return default_zone()
    if "viewer_zone" not in g:
        chosen = getattr(current_user, "timezone", None) if current_user.is_authenticated else None
        g.viewer_zone = valid_zone(chosen) if chosen else None
        g.viewer_zone = g.viewer_zone or default_zone()
    return g.viewer_zone


def _as_datetime(value) -> datetime | date | None:
    """A datetime (naive ones are UTC), a date, or an ISO 8601 string of either; None otherwise."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if len(text) == 10:
            return parsed.date()
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def relative(moment: datetime, now: datetime) -> str:
    """ "in 3 hours", "2 days ago", "just now": the largest whole unit between now and then."""
    seconds = (moment - now).total_seconds()
    amount = abs(seconds)
    if amount < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if amount >= size:
            count = int(amount // size)
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if seconds > 0 else f"{words} ago"
    return "just now"  # pragma: no cover


def when(value, style: str = "datetime") -> str:
    """A date or time as people read it, in the viewer's zone with the zone named ('' for nothing).

    Styles: "datetime" (default) "02 Dec 2026 15:14 CET", "date" "02 Dec 2026", "time"
    "15:14 CET", "relative" "in 3 hours"; "text" rewrites every ISO time inside a text (a task's
    instructions say "it was due 2026-12-02T15:14:18+00:00") as "02 Dec 2026 16:14 CET".
    """
    if style == "text":
        return ISO_IN_TEXT.sub(lambda found: when(found.group(0)), "" if value is None else str(value))
    moment = _as_datetime(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    return _when(moment, style)


def _when(moment: datetime | date, style: str) -> str:
    """`when` of a value `_as_datetime` has read already."""
    if not isinstance(moment, datetime):
        return moment.strftime(DATE_FORMAT)
    if style == "relative":
        return relative(moment, utcnow())
    local = moment.astimezone(viewer_zone())
    if style == "date":
        return local.strftime(DATE_FORMAT)
    if style == "time":
        return local.strftime("%H:%M %Z")
    return local.strftime(DATETIME_FORMAT)


def iso(value) -> str:
    """ISO 8601 in UTC for `<time datetime=…>` attributes ('' for nothing)."""
    moment = _as_datetime(value)
    return "" if moment is None else _iso(moment)


def _iso(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    return moment.isoformat()


def time_tag(value, style: str = "datetime") -> Markup:
    """`<time datetime="ISO">` around `when(value, style)`; "relative" shows "in 3 hours · 02 Dec 2026
    15:14 CET", any style carries the absolute time as its tooltip.

    The value is read once and the tag joined from escaped strings: lists show two tags a row, and
    `Markup.format` (a formatter that escapes each field) cost more than the rest of the tag."""
    moment = _as_datetime(value)
    if moment is None:
        return Markup("")
    absolute = _when(moment, "date" if style == "date" else "datetime")
    if style == "relative":
        shown = f"{_when(moment, 'relative')} · {absolute}"
    elif style in ("datetime", "date"):
        shown = absolute
    else:
        shown = when(value, style)
    return Markup(
        f'<time datetime="{escape(_iso(moment))}" title="{escape(absolute)}">{escape(shown)}</time>'
    )


def init_app(app: Flask) -> None:
    """Register `when` and `iso` (filters) and `time_tag` (a global) on the app's templates."""
    app.add_template_filter(when, "when")
    app.add_template_filter(iso, "iso")
    app.add_template_global(time_tag, "time_tag")
    app.add_template_global(lambda: viewer_zone().key, "viewer_zone_name")  # for browser code
