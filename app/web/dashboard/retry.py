"""Retrying one incident after editing the process data, with an exact preview before it applies.

The ticket page's form sends the edited JSON to `preview`, which shows every key added, removed
or changed (old → new) and a confirmation carrying the edited data and the fingerprint of the
data it was compared with; `retry_one` runs the engine's `retry_incident(data=..., seen=...)`,
which applies the change and retries in one transaction (refused, nothing applied, when the
data changed since the preview). Without edited data it is a plain retry. Bad JSON is a 422
that names the field `data`.
"""

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import incident_condition, may_retry_incident
from app.engine import (
    EngineError,
    InvalidData,
    StepFailed,
    check_edit,
    fingerprint,
    incident_data,
    retry_incident,
)
from app.extensions import db
from app.inputs import RefusedJSON, loads_strict
from app.models import Incident, Job
from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp

MAX_DATA_TEXT = 64 * 1024  # characters of the edited JSON


def visible_incident(incident_id: int, scope) -> Incident:
    """The open or resolved incident, 404 outside the person's scope, 403 for who may not retry."""
    user = current_user._get_current_object()
    incident = (
        db.session.execute(
            db.select(Incident).where(Incident.id == incident_id, incident_condition(scope, user.username))
        ).scalar()
        if incident_id < 2**63
        else None
    )
    if incident is None:
        abort(404)
    if not may_retry_incident(user):
        abort(403)
    return incident


def parse_data(raw: str) -> tuple[dict | None, str | None]:
    """The edited JSON object, or (None, what is wrong with it)."""
    if len(raw) > MAX_DATA_TEXT:
        return None, f"is longer than {MAX_DATA_TEXT // 1024} KiB"
    try:
        value = loads_strict(raw)
    except RefusedJSON as exc:
        return None, f"cannot be used: {exc.message}"
    except ValueError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        return None, f"is not valid JSON{where}: {getattr(exc, 'msg', exc)}"
    if not isinstance(value, dict):
        return None, 'must be a JSON object, e.g. {"amount": 12.5}'
    return value, None


def _edit_page(incident: Incident, raw: str, status: int, errors: dict, changes=None, seen: str = ""):
    job = db.session.get(Job, incident.job_id) if incident.job_id else None
    return render_template(
        "dashboard/retry_preview.html",
        incident=incident,
        job=job,
        raw=raw,
        errors=errors,
        changes=changes,
        seen=seen,
    ), status


@bp.post("/incidents/<int:incident_id>/preview")
@dashboard_required
def preview_retry(incident_id: int, scope):
    """Show exactly what the edited data changes before the retry applies it."""
    incident = visible_incident(incident_id, scope)
    raw = (request.form.get("data") or "").replace("\r\n", "\n")
    try:
        current = incident_data(incident.id)
    except EngineError as exc:
        flash(f"Incident {incident_id} cannot be retried with edited data: {exc.message}.", "error")
        return _back(incident)
    seen = request.form.get("seen") or fingerprint(current)
    incident = db.session.get(Incident, incident_id)
    edited, problem = parse_data(raw)
    if problem:
        return _edit_page(incident, raw, 422, {"data": f"data {problem}"}, seen=seen)
    if seen != fingerprint(current):
        return _edit_page(
            incident,
            raw,
            409,
            {"data": "the process data changed since you opened it; start again"},
            seen=seen,
        )
    try:
        changes = check_edit(current, edited)
    except InvalidData as exc:
        return _edit_page(incident, raw, 422, exc.errors, seen=seen)
    text = json.dumps(edited, indent=2, sort_keys=True, ensure_ascii=False)
    return _edit_page(incident, text, 200, {}, changes=changes, seen=seen)


def _back(incident: Incident):
    target = request.form.get("next", "")
    if target.startswith("/dashboard/") and not target.startswith("//"):
        return redirect(target)
    if incident.ticket_id is not None:
        return redirect(url_for("dashboard.ticket", ticket_id=incident.ticket_id))
    return redirect(url_for("dashboard.incidents"))


@bp.post("/incidents/<int:incident_id>/retry")
@dashboard_required
def retry_one(incident_id: int, scope):
    """Retry an incident now, on the edited data when the confirmation carries it."""
    incident = visible_incident(incident_id, scope)
    raw = request.form.get("data")
    edited = None
    if raw is not None:
        edited, problem = parse_data(raw.replace("\r\n", "\n"))
        if problem:
            return _edit_page(
                incident, raw, 422, {"data": f"data {problem}"}, seen=request.form.get("seen", "")
            )
    user = current_user._get_current_object()
    try:
        retry_incident(incident.id, actor=user.username, data=edited, seen=request.form.get("seen") or None)
    except InvalidData as exc:
        db.session.rollback()
        return _edit_page(db.session.get(Incident, incident_id), raw or "", 422, exc.errors)
    except StepFailed as exc:
        db.session.rollback()
        return _edit_page(db.session.get(Incident, incident_id), raw or "", 422, {"data": exc.message})
    except EngineError as exc:
        flash(f"Incident {incident_id} was not retried: {exc.message}.", "error")
        return _back(db.session.get(Incident, incident_id))
    flash(
        f"Incident {incident_id} is being retried"
        + (" with the edited data" if edited is not None else "")
        + "; it is resolved, and the ticket moves on, when the step succeeds.",
        "success",
    )
    return _back(incident)
