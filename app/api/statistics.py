"""Per-element statistics of a process version: `GET /api/v1/process-definitions/{key}/statistics`."""

from datetime import date, timedelta

from flask import jsonify

from app.api.auth import token_required
from app.api.blueprint import bp
from app.clock import utcnow
from app.errors import json_error
from app.inputs import OutOfRange, query_int, query_text
from app.stats.elements import definition_of, element_statistics
from app.stats.kpis import MAX_PERIOD_DAYS

STATISTICS_ROLES = ("analyst", "manager", "admin")
DEFAULT_DAYS = 30


def query_date(name: str) -> date | None:
    """The query parameter `name` as a date (YYYY-MM-DD), None when absent; 422 naming it otherwise."""
    raw = query_text(name, 10)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else date.fromisoformat("invalid")
    except ValueError:
        raise OutOfRange(name, "must be a date, YYYY-MM-DD") from None


def period_dates() -> tuple[date, date]:
    """`from` and `to` (inclusive UTC days); the last DEFAULT_DAYS days by default. 422 naming the field."""
    end = query_date("to") or utcnow().date()
    start = query_date("from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise OutOfRange("from", "must not be after 'to'")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise OutOfRange("to", f"a period spans at most {MAX_PERIOD_DAYS} days")
    return start, end


@bp.get("/process-definitions/<key>/statistics")
@token_required(*STATISTICS_ROLES)
def definition_statistics(key: str):
    """Per element of a version (the latest by default) over a period: active, completed, cancelled,
    incidents, median and p90 seconds spent."""
    version = query_int("version", minimum=1)
    start, end = period_dates()
    definition = definition_of(key, version)
    if definition is None:
        return json_error(404, f"no process '{key}'" + (f" version {version}" if version else ""))
    return jsonify(
        {
            "key": definition.key,
            "version": definition.version,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "elements": element_statistics(definition, start, end),
        }
    )
