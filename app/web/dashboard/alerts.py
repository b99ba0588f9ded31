"""`/dashboard/alerts`: the alert rules (thresholds per type and team) and every alert that fired.

Managers and admins only (team leads get a 404). Rules are added, changed and deleted by form
posts without ids in the URL (the rule's id is a form field); the worker evaluates them
(app/dashboard/alerts.py). Staff pages show managers and admins a banner while an alert fires
(`alert_banner`, a context processor for base.html); dismissing it hides the events up to the
newest shown, for this session, until another fires.
"""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.clock import utcnow
from app.dashboard.alerts import crosses, describe, firing_after
from app.extensions import db
from app.inputs import ascii_int
from app.models import ALERT_METRICS, AlertEvent, AlertRule, ProcessDefinition, Team
from app.transactions import write_transaction
from app.web.dashboard.access import dashboard_required
from app.web.dashboard.blueprint import bp

MANAGERS = ("manager", "admin")
DISMISSED = "alerts_dismissed_through"  # session key: the newest event id the banner was dismissed at
EVENTS_SHOWN = 200
MAX_THRESHOLD = 1_000_000


def _managers_only() -> None:
    if current_user.role not in MANAGERS:
        abort(404)


def _choices() -> dict:
    types = db.session.execute(
        db.select(ProcessDefinition.key)
        .where(ProcessDefinition.kind == "bpmn")
        .distinct()
        .order_by(ProcessDefinition.key)
    ).scalars()
    teams = db.session.execute(db.select(Team.key).order_by(Team.key)).scalars()
    return {"metrics": ALERT_METRICS, "types": list(types), "teams": list(teams)}


def _page(form: dict, errors: dict, status: int = 200):
    rules = db.session.execute(db.select(AlertRule).order_by(AlertRule.id)).scalars().all()
    firing = set(
        db.session.execute(db.select(AlertEvent.rule_id).where(AlertEvent.resolved_at.is_(None))).scalars()
    )
    rows = [
        {
            "rule": rule,
            "text": describe(rule),
            "value": rule.last_value,
            "over": crosses(rule, rule.last_value),
        }
        for rule in rules
    ]  # the values of the worker's last evaluation: the page counts nothing itself
    events = (
        db.session.execute(
            db.select(AlertEvent)
            .order_by(AlertEvent.fired_at.desc(), AlertEvent.id.desc())
            .limit(EVENTS_SHOWN)
        )
        .scalars()
        .all()
    )
    return render_template(
        "dashboard/alerts.html",
        rules=rows,
        firing=firing,
        events=events,
        form=form,
        errors=errors,
        **_choices(),
    ), status


@bp.get("/alerts")
@dashboard_required
def alerts(scope):
    """The alert rules with their values at the last evaluation, and every alert with when it fired."""
    _managers_only()
    return _page({"metric": "sla_attainment", "window_days": "7"}, {})


def _rule_errors(form, choices: dict) -> tuple[dict, dict]:
    """Check a rule's fields; returns (errors by field, clean values)."""
    errors, clean = {}, {}
    metric = form.get("metric", "")
    if metric not in ALERT_METRICS:
        errors["metric"] = f"one of {', '.join(ALERT_METRICS)}"
    clean["metric"] = metric
    for field, known in (("ticket_type", choices["types"]), ("team_key", choices["teams"])):
        value = form.get(field, "").strip()
        if value and value not in known:
            errors[field] = f"unknown {field.replace('_', ' ')} '{value[:64]}'"
        clean[field] = value or None
    try:
        threshold = float(form.get("threshold", "").strip())
        if not 0 <= threshold <= MAX_THRESHOLD:
            raise ValueError
    except ValueError:
        errors["threshold"] = f"a number from 0 to {MAX_THRESHOLD:,}"
        threshold = None
    if metric == "sla_attainment" and threshold is not None and threshold > 100:
        errors["threshold"] = "a percentage: from 0 to 100"
    if metric == "csat" and threshold is not None and threshold > 5:
        errors["threshold"] = "a rating: from 0 to 5"
    clean["threshold"] = threshold
    days = ascii_int(form.get("window_days", "7").strip() or "7", maximum=366)
    if days is None or not 1 <= days <= 366:
        errors["window_days"] = "a whole number of days from 1 to 366"
    clean["window_days"] = days
    return errors, clean


@bp.post("/alerts")
@dashboard_required
def add_alert_rule(scope):
    """Add an alert rule."""
    _managers_only()
    errors, clean = _rule_errors(request.form, _choices())
    if errors:
        return _page(request.form, errors, 422)
    with write_transaction():
        db.session.add(AlertRule(**clean, enabled=True, created_by_id=current_user.id, created_at=utcnow()))
    flash("Alert rule added; the worker evaluates it within a minute.", "success")
    return redirect(url_for("dashboard.alerts"), 303)


@bp.post("/alerts/rules")
@dashboard_required
def change_alert_rule(scope):
    """Change a rule's threshold, turn it on or off, or delete it (its alerts stay listed)."""
    _managers_only()
    rule_id = ascii_int(request.form.get("rule_id", "").strip())
    rule = db.session.get(AlertRule, rule_id) if rule_id is not None else None
    if rule is None:
        abort(404)
    action = request.form.get("action", "")
    if action not in ("save", "delete"):
        flash("Unknown action: choose save or delete.", "error")
        return redirect(url_for("dashboard.alerts"), 303)
    if action == "delete":
        with write_transaction():
            db.session.delete(db.session.get(AlertRule, rule_id))
        flash("Alert rule deleted.", "success")
        return redirect(url_for("dashboard.alerts"), 303)
    form = {
        "metric": rule.metric,
        "ticket_type": rule.ticket_type or "",
        "team_key": rule.team_key or "",
        "threshold": request.form.get("threshold", ""),
        "window_days": request.form.get("window_days", str(rule.window_days)),
    }
    errors, clean = _rule_errors(form, _choices())
    if errors:
        return _page(form, {f"rule-{rule.id}-{k}": v for k, v in errors.items()}, 422)
    with write_transaction():
        rule = db.session.get(AlertRule, rule_id)
        rule.threshold, rule.window_days = clean["threshold"], clean["window_days"]
        rule.enabled = request.form.get("enabled") == "on"
    flash("Alert rule saved.", "success")
    return redirect(url_for("dashboard.alerts"), 303)


@bp.post("/alerts/dismiss")
@dashboard_required
def dismiss_alerts(scope):
    """Hide the alert banner for this session until another alert fires."""
    _managers_only()
    through = ascii_int(request.form.get("through", "").strip())
    if through is None:
        abort(400, "the field 'through' names the newest alert shown")
    session[DISMISSED] = max(session.get(DISMISSED, 0), through)
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("dashboard.alerts")
    return redirect(target, 303)


@bp.app_context_processor
def alert_banner() -> dict:
    """`alert_banner()` for base.html: the firing alerts a manager or admin has not dismissed."""

    def banner() -> list[AlertEvent]:
        if not current_user.is_authenticated or current_user.role not in MANAGERS:
            return []
        try:
            return firing_after(session.get(DISMISSED, 0))
        except SQLAlchemyError:  # an error page about the database itself still renders
            db.session.rollback()
            return []

    return {"alert_banner": banner}
