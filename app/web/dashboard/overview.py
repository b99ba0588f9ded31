"""`/dashboard`: the KPI page per period, ticket type and team, refreshed every 30 s by htmx.

The page and its fragment (`/dashboard/kpis`, what htmx polls) read `app.stats.kpis`; the
charts (app/static_src/dashboard/charts.page.js, Chart.js) take their data from data-* attributes
of the fragment, so no inline script is needed. Chart.js sets style attributes on its canvases:
these two views allow `style-src-attr 'unsafe-inline'`.
"""

from flask import render_template, request

from app.extensions import db
from app.inputs import OutOfRange, query_date, query_enum
from app.models import ProcessDefinition, Team
from app.security_headers import extend_csp
from app.stats.kpis import DEFINITIONS, PERIODS, PeriodError, kpis, period_of
from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp

NO_TEAM = "_none"  # the `team` value for tickets whose type's SLA policy names no team
CHART_STYLES = {"style-src-attr": ["'unsafe-inline'"]}


def filters(scope) -> dict:
    """The page's GET parameters, checked (422 naming the parameter): period, from, to, type, team."""
    types = tuple(
        db.session.execute(
            db.select(ProcessDefinition.key)
            .where(ProcessDefinition.kind == "bpmn")
            .distinct()
            .order_by(ProcessDefinition.key)
        ).scalars()
    )
    if scope.sees_all:
        teams = (*db.session.execute(db.select(Team.key).order_by(Team.key)).scalars(), NO_TEAM)
    else:
        teams = tuple(scope.lead_keys)
    name = query_enum("period", (*PERIODS, "custom")) or "7d"
    ticket_type = query_enum("type", types) if request.args.get("type") else None
    team = query_enum("team", teams) if request.args.get("team") else None
    try:
        period = period_of(name, query_date("from"), query_date("to"))
    except PeriodError as exc:
        raise OutOfRange(exc.field, exc.message) from None
    return {
        "period": period,
        "type": ticket_type,
        "team": team,
        "types": types,
        "teams": teams,
        "args": {
            k: v for k, v in request.args.items() if k in ("period", "from", "to", "type", "team") and v
        },
    }


def _figures(scope) -> tuple[dict, object]:
    chosen = filters(scope)
    team = "" if chosen["team"] == NO_TEAM else chosen["team"]
    return chosen, kpis(scope, chosen["period"], chosen["type"], team)


@bp.get("/")
@dashboard_required
@extend_csp(CHART_STYLES)
def index(scope):
    """The KPIs per period, type and team, with their definitions."""
    chosen, found = _figures(scope)
    return render_template(
        "dashboard/index.html", chosen=chosen, k=found, definitions=DEFINITIONS, no_team=NO_TEAM
    )


@bp.get("/kpis")
@dashboard_required
@extend_csp(CHART_STYLES)
def kpis_fragment(scope):
    """The figures alone (the fragment htmx polls every 30 s), for the same parameters as the page."""
    chosen, found = _figures(scope)
    return render_template("dashboard/_kpis.html", chosen=chosen, k=found)
