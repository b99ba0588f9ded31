"""Per-element statistics of a process version: `GET /api/v1/process-definitions/{key}/statistics`."""

from flask import jsonify

from app.api.auth import token_required
from app.api.blueprint import bp
from app.clock import utcnow
from app.errors import json_error
from app.inputs import query_days, query_int
from app.stats.elements import definition_of, element_statistics
from app.stats.kpis import MAX_PERIOD_DAYS

STATISTICS_ROLES = ("analyst", "manager", "admin")
DEFAULT_DAYS = 30


@bp.get("/process-definitions/<key>/statistics")
@token_required(*STATISTICS_ROLES)
def definition_statistics(key: str):
    """Per element of a version (the latest by default) over a period: active, completed, cancelled,
    incidents, median and p90 seconds spent."""
    version = query_int("version", minimum=1)
    start, end = query_days(utcnow().date(), DEFAULT_DAYS, MAX_PERIOD_DAYS)
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
