"""`/dashboard/tickets`: every ticket in the caller's scope, filtered, counted per status, sorted,
paged; `/dashboard/tickets.csv`: the same list as a CSV download (app/ticket_list does the SQL)."""

import math

from flask import Response, render_template, request, stream_with_context
from flask_login import current_user

from app.access import ticket_condition
from app.clock import utcnow
from app.extensions import db
from app.inputs import ascii_int
from app.models import PRIORITIES, STAFF, ProcessDefinition, Team, User
from app.ticket_list import (
    PAGE_SIZE,
    SLA_STATES,
    STATES,
    csv_lines,
    list_page,
    parse_filters,
    status_counts,
    status_label,
    statuses_of,
)
from app.ticket_list.statuses import all_statuses
from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp

# Start-form field types a `field=name:value` filter can match (ticket_field holds scalars only).
MAX_ASSIGNEES = 500  # people in the assignee filter
SCALAR_TYPES = ("string", "number", "integer", "boolean")
COLUMNS = (
    ("id", "#"),
    ("subject", "Subject"),
    ("type", "Type"),
    ("status", "Status"),
    ("priority", "Priority"),
    ("sla", "SLA"),
    ("team", "Team"),
    ("customer", "Customer"),
    ("created", "Created"),
    ("closed", "Closed"),
)


@bp.app_template_filter("ticket_status")
def _ticket_status(status: str | None) -> str:
    return status_label(status)


@bp.get("/tickets")
@dashboard_required
def tickets(scope):
    """Every ticket in scope with filters, counts per status, sorting and pages."""
    filters = parse_filters(request.args)
    now = utcnow()
    condition = ticket_condition(scope, current_user.username)
    counts = status_counts(condition, filters, now)
    total = sum(counts.values())
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(ascii_int(request.args.get("page")) or 1, 1), pages)
    rows = list_page(condition, filters, now, offset=(page - 1) * PAGE_SIZE, matches=total)
    types = _types()
    return render_template(
        "dashboard/tickets.html",
        filters=filters,
        rows=rows,
        counts=counts,
        total=total,
        page=page,
        pages=pages,
        columns=COLUMNS,
        types=sorted(types),
        versions=types.get(filters.type, []),
        statuses=statuses_of(filters.type) if filters.type else all_statuses(),
        teams=_teams(scope),
        assignees=_assignees(),
        priorities=PRIORITIES,
        sla_states=SLA_STATES,
        states=STATES,
        field_names=_start_fields(filters.type) if filters.type else [],
    )


@bp.get("/tickets.csv")
@dashboard_required
def tickets_csv(scope):
    """The filtered list as CSV (streamed; cells starting a formula are quoted with ')."""
    filters = parse_filters(request.args)
    lines = csv_lines(ticket_condition(scope, current_user.username), filters, utcnow())
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="tickets-{stamp}.csv"'},
    )


def _types() -> dict[str, list[int]]:
    """Deployed ticket types and their versions (newest first)."""
    found: dict[str, list[int]] = {}
    for key, version in db.session.execute(
        db.select(ProcessDefinition.key, ProcessDefinition.version)
        .where(ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    ):
        found.setdefault(key, []).append(version)
    return found


def _teams(scope) -> list[tuple[str, str]]:
    query = db.select(Team.key, Team.name).order_by(Team.name)
    if not scope.sees_all:
        query = query.where(Team.key.in_(scope.team_keys))
    return db.session.execute(query).all()


def _assignees() -> list[tuple[int, str]]:
    return db.session.execute(
        db.select(User.id, User.name)
        .where(User.role.in_(STAFF), User.active.is_(True))
        .order_by(User.name)
        .limit(MAX_ASSIGNEES)
    ).all()


def _start_fields(ticket_type: str) -> list[str]:
    """The scalar fields of the type's latest start form (what `field=name:value` can match)."""
    forms, start_form = db.session.execute(
        db.select(ProcessDefinition.forms, ProcessDefinition.start_form)
        .where(ProcessDefinition.key == ticket_type, ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first() or (None, None)
    schema = (forms or {}).get(start_form) if start_form else None
    properties = (schema or {}).get("properties") or {}
    return [
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get("type") in SCALAR_TYPES
    ]
