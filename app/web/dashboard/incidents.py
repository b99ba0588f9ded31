"""`/dashboard/incidents`: failed jobs and timers with their error, element, ticket, attempts and next
retry; select several, see exactly which will be retried, confirm, and each is retried.

Retrying is the engine's `retry_incident`, one command per incident: one that fails (resolved
meanwhile, say) is reported and leaves the others retried. An incident is resolved by its retry,
and a retry that fails again opens a new incident (the engine's rule, `commands/incidents.py`).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import aliased

from app.access import incident_condition, may_retry_incident
from app.engine import EngineError, retry_incident
from app.extensions import db
from app.inputs import ascii_int
from app.models import Incident, Job, Ticket
from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp

PAGE_SIZE = 200  # open incidents shown (newest first)
MAX_SELECTED = 100


def _rows(scope, ids: list[int] | None = None) -> list:
    """Open incidents the person may see (those of `ids` only, when given), with job and ticket."""
    user = current_user._get_current_object()
    shown = aliased(Ticket)  # not `Ticket`: the scope's condition correlates its own
    query = (
        db.select(Incident, Job, shown.subject)
        .outerjoin(Job, Job.id == Incident.job_id)
        .outerjoin(shown, shown.id == Incident.ticket_id)
        .where(Incident.resolved_at.is_(None), incident_condition(scope, user.username))
        .order_by(Incident.id.desc())
        .limit(PAGE_SIZE)
    )
    if ids is not None:
        query = query.where(Incident.id.in_(ids))
    return db.session.execute(query).all()


@bp.get("/incidents")
@dashboard_required
def incidents(scope):
    """List the open incidents of the person's tickets, newest first."""
    rows = _rows(scope)
    return render_template(
        "dashboard/incidents.html",
        rows=rows,
        may_retry=bool(may_retry_incident(current_user._get_current_object())),
        limit=PAGE_SIZE,
    )


def _selected() -> tuple[list[int], str | None]:
    raw = request.form.getlist("incident_id")
    ids = [ascii_int(value) for value in raw]
    if any(i is None or i >= 2**63 for i in ids):
        return [], "incident_id: every selected incident is a whole number"
    if not ids:
        return [], "incident_id: select the incidents to retry"
    if len(set(ids)) > MAX_SELECTED:
        return [], f"incident_id: select at most {MAX_SELECTED} incidents at a time"
    return sorted(set(ids)), None


@bp.post("/incidents/preview")
@dashboard_required
def preview_selection(scope):
    """Confirm exactly which incidents will be retried."""
    user = current_user._get_current_object()
    if not may_retry_incident(user):
        abort(403)
    ids, problem = _selected()
    if problem:
        flash(f"Nothing was retried: {problem}.", "error")
        return render_template(
            "dashboard/incidents.html", rows=_rows(scope), may_retry=True, limit=PAGE_SIZE, error=problem
        ), 422
    rows = _rows(scope, ids)
    missing = sorted(set(ids) - {incident.id for incident, _, _ in rows})
    return render_template("dashboard/incidents_confirm.html", rows=rows, missing=missing)


@bp.post("/incidents/retry")
@dashboard_required
def retry_selection(scope):
    """Retry each confirmed incident (one command each); say which were retried and which not."""
    user = current_user._get_current_object()
    if not may_retry_incident(user):
        abort(403)
    ids, problem = _selected()
    if problem:
        flash(f"Nothing was retried: {problem}.", "error")
        return redirect(url_for("dashboard.incidents"))
    visible = {incident.id for incident, _, _ in _rows(scope, ids)}
    retried, failed = [], []
    for incident_id in ids:
        if incident_id not in visible:
            failed.append(f"{incident_id} (not found or already resolved)")
            continue
        try:
            retry_incident(incident_id, actor=user.username)
        except EngineError as exc:
            failed.append(f"{incident_id} ({exc.message})")
        else:
            retried.append(str(incident_id))
    if retried:
        flash(f"Retried {len(retried)} incident(s): {', '.join(retried)}.", "success")
    if failed:
        flash(f"Not retried: {'; '.join(failed)}.", "error")
    return redirect(url_for("dashboard.incidents"))
