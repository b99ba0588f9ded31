"""Webhook subscriptions for admins: list, create, edit, delete, rotate the secret; deliveries and "send again".

A subscription's URL is checked when saved (app/webhooks/targets.py: http(s) only, public
addresses unless configuration allows others) and again by the worker before each delivery.
The signing secret is shown once, on the page answering its creation or rotation, never again.
docs/webhooks.md is the integrators' side.
"""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import roles_required
from app.clock import utcnow
from app.extensions import db
from app.inputs import query_enum, query_int
from app.models import DELIVERY_STATES, WEBHOOK_EVENTS, WebhookDelivery, WebhookSubscription
from app.transactions import write_transaction
from app.web.admin.blueprint import bp
from app.webhooks import TargetRefused, check_url, new_secret, subscriptions_changed

PAGE = 50
DESCRIPTION_MAX = 200


def _read_form(form) -> tuple[dict, dict]:
    """(values, errors by field name) of the posted subscription form."""
    values = {
        "url": form.get("url", "").strip(),
        "description": form.get("description", "").strip() or None,
        "events": [e for e in WEBHOOK_EVENTS if e in form.getlist("events")],
        "active": form.get("active") == "on",
    }
    errors = {}
    try:
        check_url(values["url"])
    except TargetRefused as exc:
        errors["url"] = f"url: {exc}"
    unknown = sorted(set(form.getlist("events")) - set(WEBHOOK_EVENTS))
    if unknown:
        errors["events"] = f"events: unknown event {', '.join(unknown)}; known: {', '.join(WEBHOOK_EVENTS)}"
    elif not values["events"]:
        errors["events"] = "events: choose at least one event"
    if values["description"] and len(values["description"]) > DESCRIPTION_MAX:
        errors["description"] = f"description: at most {DESCRIPTION_MAX} characters"
    return values, errors


@bp.get("/webhooks")
@roles_required("admin")
def webhooks():
    """List the subscriptions with their deliveries' counts per state."""
    rows = db.session.execute(db.select(WebhookSubscription).order_by(WebhookSubscription.id)).scalars().all()
    counts: dict[int, dict[str, int]] = {}
    for sid, state, n in db.session.execute(
        db.select(WebhookDelivery.subscription_id, WebhookDelivery.state, db.func.count()).group_by(
            WebhookDelivery.subscription_id, WebhookDelivery.state
        )
    ):
        counts.setdefault(sid, {})[state] = n
    return render_template("admin/webhooks.html", rows=rows, counts=counts, states=DELIVERY_STATES)


@bp.route("/webhooks/new", methods=["GET", "POST"])
@roles_required("admin")
def new_webhook():
    """Subscribe a URL to events; the answer shows its signing secret, once."""
    if request.method == "GET":
        return _form(None, {"events": list(WEBHOOK_EVENTS), "active": True}, {})
    values, errors = _read_form(request.form)
    if errors:
        return _form(None, {**values, "url": request.form.get("url", "")}, errors, 422)
    with write_transaction():
        now = utcnow()
        row = WebhookSubscription(
            **values, secret=new_secret(), created_by_id=current_user.id, created_at=now, updated_at=now
        )
        db.session.add(row)
    subscriptions_changed()
    return _secret_page(row, "created")


@bp.route("/webhooks/<int:webhook_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_webhook(webhook_id: int):
    """Change a subscription (URL, events, active) and list its deliveries, newest first."""
    row = db.session.get(WebhookSubscription, webhook_id) or abort(404)
    if request.method == "GET":
        return _form(row, {c: getattr(row, c) for c in ("url", "description", "events", "active")}, {})
    values, errors = _read_form(request.form)
    if errors:
        return _form(row, {**values, "url": request.form.get("url", "")}, errors, 422)
    with write_transaction():
        row = db.session.get(WebhookSubscription, webhook_id) or abort(404)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
    subscriptions_changed()
    flash("Webhook saved.", "success")
    return redirect(url_for("admin.edit_webhook", webhook_id=webhook_id))


@bp.post("/webhooks/<int:webhook_id>/rotate")
@roles_required("admin")
def rotate_webhook_secret(webhook_id: int):
    """Give the subscription a new signing secret (shown once); deliveries from now on use it."""
    with write_transaction():
        row = db.session.get(WebhookSubscription, webhook_id) or abort(404)
        row.secret, row.updated_at = new_secret(), utcnow()
    return _secret_page(row, "rotated")


@bp.post("/webhooks/<int:webhook_id>/delete")
@roles_required("admin")
def delete_webhook(webhook_id: int):
    """Delete a subscription and its deliveries (pending ones are not sent)."""
    with write_transaction():
        row = db.session.get(WebhookSubscription, webhook_id) or abort(404)
        db.session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id))
        db.session.delete(row)
    subscriptions_changed()
    flash(f"Webhook {webhook_id} deleted.", "success")
    return redirect(url_for("admin.webhooks"))


@bp.post("/webhooks/deliveries/<int:delivery_id>/resend")
@roles_required("admin")
def resend_delivery(delivery_id: int):
    """Send a delivery again (same id, so a receiver that has it may drop it): pending, attempts from 0."""
    with write_transaction():
        row = db.session.get(WebhookDelivery, delivery_id) or abort(404)
        done = row.state in ("sent", "failed")
        if done:
            row.state, row.attempts, row.next_attempt_at = "pending", 0, None
            row.last_error = f"sent again by {current_user.username} after: {row.last_error or row.state}"[
                :1000
            ]
    target = url_for("admin.edit_webhook", webhook_id=row.subscription_id)
    if not done:
        flash(f"Delivery {delivery_id} is {row.state}: it goes out anyway.", "error")
        return redirect(target), 303
    flash(f"Delivery {delivery_id} goes out again with the worker's next round.", "success")
    return redirect(target)


def _deliveries(row: WebhookSubscription) -> dict:
    state = query_enum("state", DELIVERY_STATES)
    before = query_int("before", minimum=1)
    query = (
        db.select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == row.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(PAGE + 1)
    )
    if state:
        query = query.where(WebhookDelivery.state == state)
    if before:
        query = query.where(WebhookDelivery.id < before)
    deliveries = db.session.execute(query).scalars().all()
    counts = dict(
        db.session.execute(
            db.select(WebhookDelivery.state, db.func.count())
            .where(WebhookDelivery.subscription_id == row.id)
            .group_by(WebhookDelivery.state)
        ).all()
    )
    more = len(deliveries) > PAGE
    deliveries = deliveries[:PAGE]
    return {
        "deliveries": deliveries,
        "state": state,
        "counts": counts,
        "next_before": deliveries[-1].id if more else None,
    }


def _form(row: WebhookSubscription | None, form: dict, errors: dict, status: int = 200):
    listing = _deliveries(row) if row is not None else {}
    return render_template(
        "admin/webhook_form.html",
        row=row,
        form=form,
        errors=errors,
        events=WEBHOOK_EVENTS,
        states=DELIVERY_STATES,
        **listing,
    ), status


def _secret_page(row: WebhookSubscription, what: str):
    """The one page that shows the secret: never stored by a browser or a proxy."""
    page = make_response(render_template("admin/webhook_secret.html", row=row, what=what))
    page.headers["Cache-Control"] = "no-store"
    return page
