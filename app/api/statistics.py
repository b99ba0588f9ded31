"""Per-element statistics of a process version: `GET /api/v1/process-definitions/{key}/statistics`."""

from flask import g, jsonify

from app.access import scope_of
from app.api.auth import token_required
from app.api.blueprint import bp
from app.clock import utcnow
from app.errors import json_error
from app.inputs import query_days, query_int
from app.stats.elements import definition_of, element_statistics, visible_types
from app.stats.kpis import MAX_PERIOD_DAYS

STATISTICS_ROLES = ("analyst", "manager", "admin")
DEFAULT_DAYS = 30


@bp.get("/process-definitions/<key>/statistics")
@token_required(*STATISTICS_ROLES)
def definition_statistics(key: str):
    """Per element of a version (the latest by default) over a period: active, completed, cancelled,
    incidents, median and p90 seconds spent. A manager who does not see everything sees the types
    of the teams they see whole (their SLA policy's team); others are answered 404."""
    version = query_int("version", minimum=1)
    start, end = query_days(utcnow().date(), DEFAULT_DAYS, MAX_PERIOD_DAYS)
    visible = visible_types(scope_of(g.api_user), g.api_user.role)
    definition = definition_of(key, version) if visible is None or key in visible else None
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
