"""`/dashboard`: the KPI page (the analytics helper replaces this placeholder)."""

from flask import render_template

from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp


@bp.get("/")
@dashboard_required
def index(scope):
    """The KPIs per period, type and team."""
    return render_template("dashboard/index.html")
