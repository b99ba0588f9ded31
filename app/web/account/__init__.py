"""The signed-in person's own settings: the time zone pages show times in; staff: which e-mails they get."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.clock import utcnow
from app.extensions import db
from app.models import User
from app.transactions import write_transaction
from app.web.formatting import default_zone, valid_zone, zone_names

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Show and change the person's time zone (an IANA name; empty: the default)."""
    error = None
    chosen = current_user.timezone or ""
    if request.method == "POST":
        chosen = (request.form.get("timezone") or "").strip()[:64]
        if chosen and valid_zone(chosen) is None:
            error = f"“{chosen}” is not a time zone; choose one from the list (e.g. Europe/Berlin)."
        else:
            with write_transaction():
                user = db.session.get(User, current_user.id)
                user.timezone = chosen or None
                if user.role != "customer":  # customers get their tickets' mails whatever they choose
                    user.mail_notifications = request.form.get("mail_notifications") == "on"
            flash(f"Settings saved: times are shown in {chosen or 'the default zone'}.", "success")
            return redirect(url_for("account.settings"))
    return render_template(
        "account/settings.html",
        chosen=chosen,
        zones=zone_names(),
        default=default_zone().key,
        error=error,
        now=utcnow(),
    ), (422 if error else 200)
