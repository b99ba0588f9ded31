"""`/dashboard/tickets/<id>`: one ticket and its instance on the diagram, with the manager's actions.

The page shows the version's diagram (drawn by `static_src/dashboard/instance.page.js` with
bpmn-js's NavigatedViewer from the XML and element states in data attributes: no inline script),
the open incidents with a retry after editing the data (`retry.py`), the timeline, the process
data, the SLA clock, feedback and the conversation. Actions: cancel with a reason, hand a task
to a teammate, move it to the newest version of its type or roll that back
(`ticket_migration.py`), and in development mode move the ticket's timers closer. Every action is an
engine command; the policy (`app.access`) says who may.
"""

import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import may_cancel, may_retry_incident, ticket_visible
from app.clock import utcnow
from app.engine import (
    Conflict,
    EngineError,
    InvalidData,
    NotFound,
    cancel_instance,
    diagram_xml,
    element_states,
    fingerprint,
    incident_data,
    instance_of_ticket,
    move_timers,
    process_data,
    reassign_task,
)
from app.extensions import db
from app.inputs import ascii_int
from app.models import Feedback, HumanTask, Incident, Job, ProcessInstance, Ticket, User
from app.security_headers import extend_csp
from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp
from app.web.dashboard.migration_offer import migration_offer
from app.web.inbox.pages import teammates, ticket_context

MAX_REASON = 500
STATE_LABELS = {
    "completed": "completed",
    "active": "open task or running job",
    "waiting": "waiting for a timer or a message",
    "incident": "incident: failed for good",
    "cancelled": "closed without completion",
}


def _user() -> User:
    return current_user._get_current_object()


def visible_ticket(ticket_id: int, scope) -> Ticket:
    """The ticket, or 404 when unknown or outside the person's scope."""
    ticket = db.session.get(Ticket, ticket_id) if ticket_id < 2**63 else None
    if ticket is None or not ticket_visible(scope, ticket.id, _user().username):
        abort(404)
    return ticket


def development() -> bool:
    """Development mode (TICKETFLOW_ENV=development): the ticket's clock may be moved."""
    return current_app.config.get("TICKETFLOW_ENV") == "development"


def open_incidents(instance_id: int) -> list[tuple[Incident, Job | None]]:
    return list(
        db.session.execute(
            db.select(Incident, Job)
            .outerjoin(Job, Job.id == Incident.job_id)
            .where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
            .order_by(Incident.id)
        ).all()
    )


@bp.get("/tickets/<int:ticket_id>")
@extend_csp({"style-src-attr": ["'unsafe-inline'"]})  # bpmn-js positions its overlays and canvas
@dashboard_required
def ticket(ticket_id: int, scope):
    """Show a ticket's instance on its diagram, its incidents, data, timeline and conversation."""
    return ticket_page(visible_ticket(ticket_id, scope), scope)


def ticket_page(
    found: Ticket, scope, status: int = 200, errors: dict | None = None, typed: dict | None = None
):
    """The ticket page; after a refused action with `status` 4xx, `errors` by field and what was `typed`."""
    ticket_id = found.id
    try:
        instance = instance_of_ticket(found.id)
    except NotFound:
        instance = None
    # These restore the workflow and roll back (nothing changes): read them before the rest.
    data = process_data(instance.id) if instance is not None else {}
    edits = {}
    for incident_id in (
        db.session.execute(
            db.select(Incident.id).where(Incident.instance_id == instance.id, Incident.resolved_at.is_(None))
        ).scalars()
        if instance is not None
        else ()
    ):
        try:
            found_data = incident_data(incident_id)
        except EngineError:
            continue  # no step whose data could be edited: a plain retry only
        edits[incident_id] = {
            "text": json.dumps(found_data, indent=2, sort_keys=True, ensure_ascii=False),
            "seen": fingerprint(found_data),
        }
    ticket_row = db.session.get(Ticket, ticket_id)
    instance = db.session.get(ProcessInstance, instance.id) if instance is not None else None
    ctx = ticket_context(ticket_row, utcnow())
    user = _user()
    states = element_states(instance) if instance is not None else {"definition": None, "elements": {}}
    running = instance is not None and instance.status in ("running", "incident")
    tasks = [t for t in ctx.open_tasks if scope.may_see(t)]
    feedback = list(
        db.session.execute(
            db.select(Feedback).where(Feedback.ticket_id == ticket_id).order_by(Feedback.id.desc()).limit(5)
        ).scalars()
    )
    return render_template(
        "dashboard/ticket.html",
        ctx=ctx,
        instance=instance,
        definition=states["definition"],
        elements=states["elements"],
        states_json=json.dumps(states["elements"], separators=(",", ":")),
        xml=diagram_xml(instance) if instance is not None else "",
        labels=STATE_LABELS,
        data=data,
        data_text=json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False),
        incidents=open_incidents(instance.id) if instance is not None else [],
        edits=edits,
        may_retry=bool(may_retry_incident(user)),
        may_cancel=running and bool(may_cancel(user, ticket_row)),
        tasks=tasks,
        teammates={t.id: teammates(t) for t in tasks},
        feedback=feedback,
        development=development() and running and user.role in ("manager", "admin"),
        migration=migration_offer(instance, states["definition"], user),
        max_reason=MAX_REASON,
        errors=errors or {},
        typed=typed or {},
    ), status


def _back(ticket_id: int):
    return redirect(url_for("dashboard.ticket", ticket_id=ticket_id))


def _said(exc: EngineError) -> str:
    return exc.message[:1].upper() + exc.message[1:] + "."


@bp.post("/tickets/<int:ticket_id>/cancel")
@dashboard_required
def cancel_ticket(ticket_id: int, scope):
    """Cancel the ticket with a reason: its process stops and its open tasks close."""
    found = visible_ticket(ticket_id, scope)
    reason = (request.form.get("reason") or "").replace("\r\n", "\n").strip()
    if not reason or len(reason) > MAX_REASON:
        message = f"Say why the ticket is cancelled, in 1 to {MAX_REASON} characters."
        flash(f"The ticket was not cancelled: reason: {message}", "error")
        return ticket_page(found, scope, 422, {"reason": message}, {"reason": reason})
    try:
        cancel_instance(instance_of_ticket(found.id).id, user=_user(), reason=reason)
    except (Conflict, NotFound) as exc:
        flash(_said(exc), "error")
        return _back(found.id)
    flash(f"Ticket #{found.id} was cancelled.", "success")
    return _back(found.id)


@bp.post("/tickets/<int:ticket_id>/reassign")
@dashboard_required
def reassign(ticket_id: int, scope):
    """Hand one of the ticket's open tasks to a teammate (the policy says who may, and to whom)."""
    found = visible_ticket(ticket_id, scope)
    task_id = request.form.get("task_id", "")[:36]
    task = db.session.get(HumanTask, task_id) if task_id else None
    if task is None or task.ticket_id != found.id or not scope.may_see(task):
        flash("The task was not handed on: task_id: that task is no longer open.", "error")
        return ticket_page(found, scope, 409)
    assignee_id = ascii_int(request.form.get("assignee", ""))
    assignee = db.session.get(User, assignee_id) if assignee_id is not None else None
    if assignee is None:
        flash("The task was not handed on: assignee: choose the teammate to hand it to.", "error")
        return ticket_page(found, scope, 422, {f"assignee-{task.id}": "choose a teammate"})
    try:
        reassign_task(task.id, _user(), assignee)
    except EngineError as exc:
        flash(_said(exc), "error")
        return ticket_page(found, scope, exc.status)
    flash(f"“{task.title}” now belongs to {assignee.name}.", "success")
    return _back(found.id)


@bp.post("/tickets/<int:ticket_id>/move-timers")
@dashboard_required
def move_ticket_timers(ticket_id: int, scope):
    """Development mode only: bring the ticket's waiting timers N minutes closer."""
    if not development() or _user().role not in ("manager", "admin"):
        abort(404)
    found = visible_ticket(ticket_id, scope)
    minutes = ascii_int(request.form.get("minutes", ""))
    try:
        moved = move_timers(
            instance_of_ticket(found.id).id, minutes if minutes is not None else 0, _user().username
        )
    except InvalidData as exc:
        message = exc.errors.get("minutes", exc.message)
        flash(f"The timers were not moved: minutes: {message}.", "error")
        return ticket_page(
            found, scope, 422, {"minutes": message}, {"minutes": request.form.get("minutes", "")}
        )
    flash(f"{moved} timer(s) moved {minutes} minute(s) closer; the worker fires those now due.", "success")
    return _back(found.id)
