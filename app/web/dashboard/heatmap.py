"""`/dashboard/heatmap`: a process version's diagram coloured by how many tickets passed each element
(frequency) or how long they spent there (duration), for a period.

The figures come from `app.stats.elements` (pre-aggregated per day); the page hands the diagram's
XML and the per-element figures to app/static_src/dashboard/heatmap.page.js (bpmn-js
NavigatedViewer) in data-* attributes: a colour class per bucket (`heat-1` .. `heat-5`) through
canvas.addMarker, the figure in an overlay, and a legend drawn here.
"""

import math

from flask import render_template
from flask_login import current_user

from app.clock import utcnow
from app.extensions import db
from app.inputs import OutOfRange, query_days, query_enum, query_int
from app.models import ProcessDefinition
from app.security_headers import extend_csp
from app.stats.elements import definition_of, element_statistics, visible_types
from app.stats.kpis import MAX_PERIOD_DAYS
from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp

VIEWS = ("frequency", "duration")
BUCKETS = 5


def heat(elements: list[dict], view: str) -> tuple[dict, list[dict]]:
    """{element id: {"bucket": 1..5, "label": text}} and the legend's ranges, for the view.

    Frequency: completed + cancelled + active; duration: the median time spent. Buckets split
    0..max into five equal ranges; an element with nothing to show gets no bucket.
    """
    values = {}
    for e in elements:
        if view == "frequency":
            value = e["completed"] + e["cancelled"] + e["active"]
        else:
            value = e["median_seconds"] or 0
        if value > 0:
            values[e["element_id"]] = value
    top = max(values.values(), default=0)
    found = {}
    for element_id, value in values.items():
        bucket = max(1, min(BUCKETS, math.ceil(BUCKETS * value / top)))
        found[element_id] = {"bucket": bucket, "label": _label(value, view)}
    legend = (
        [
            {
                "bucket": b,
                "label": f"{_label(top * (b - 1) / BUCKETS, view)} – {_label(top * b / BUCKETS, view)}",
            }
            for b in range(1, BUCKETS + 1)
        ]
        if top
        else []
    )
    return found, legend


def _label(value: float, view: str) -> str:
    if view == "frequency":
        return str(round(value))
    if value < 60:
        return f"{value:.0f} s"
    if value < 3600:
        return f"{value / 60:.0f} min"
    if value < 86400:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"


@bp.get("/heatmap")
@dashboard_required
@extend_csp({"style-src-attr": ["'unsafe-inline'"]})
def heatmap(scope):
    """The heatmap of a type's version (the latest by default) over a period (the last 30 days).

    A lead (or a manager of some teams) sees the types of those teams (their SLA policy's team)."""
    visible = visible_types(scope, current_user.role)
    types = tuple(
        key
        for key in db.session.execute(
            db.select(ProcessDefinition.key)
            .where(ProcessDefinition.kind == "bpmn")
            .distinct()
            .order_by(ProcessDefinition.key)
        ).scalars()
        if visible is None or key in visible
    )
    ticket_type = query_enum("type", types) or (types[0] if types else None)
    view = query_enum("view", VIEWS) or "frequency"
    version = query_int("version", minimum=1)
    start, end = query_days(utcnow().date(), 30, MAX_PERIOD_DAYS)
    definition = definition_of(ticket_type, version) if ticket_type else None
    if ticket_type and definition is None:
        raise OutOfRange("version", f"'{ticket_type}' has no version {version}")
    versions = (
        list(
            db.session.execute(
                db.select(ProcessDefinition.version)
                .where(ProcessDefinition.key == ticket_type, ProcessDefinition.kind == "bpmn")
                .order_by(ProcessDefinition.version.desc())
            ).scalars()
        )
        if ticket_type
        else []
    )
    elements = element_statistics(definition, start, end) if definition else []
    found, legend = heat(elements, view)
    return render_template(
        "dashboard/heatmap.html",
        types=types,
        ticket_type=ticket_type,
        versions=versions,
        definition=definition,
        view=view,
        start=start,
        end=end,
        elements=elements,
        heat=found,
        legend=legend,
        xml=definition.source.decode() if definition else "",
        duration=lambda seconds: "–" if seconds is None else _label(seconds, "duration"),
    )
