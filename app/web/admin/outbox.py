"""The outbox page for admins: every e-mail the worker sends, with its state, attempts and error.

A failed e-mail (a permanent SMTP refusal, or the last attempt of a temporary failure) stays
here with its error, so an undelivered survey or notification is visible, not lost silently;
an admin may send it again once the cause is fixed (its attempts start over).
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.access import roles_required
from app.extensions import db
from app.inputs import query_enum, query_int
from app.mail.compose import subject_of
from app.models import OUTBOX_STATES, OutboxMessage
from app.transactions import write_transaction
from app.web.admin.blueprint import bp

PAGE = 50


@bp.get("/outbox")
@roles_required("admin")
def outbox():
    """List outbox rows, newest first, filtered by state, 50 a page."""
    state = query_enum("state", OUTBOX_STATES)
    before = query_int("before", minimum=1)
    query = db.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(PAGE + 1)
    if state:
        query = query.where(OutboxMessage.state == state)
    if before:
        query = query.where(OutboxMessage.id < before)
    rows = db.session.execute(query).scalars().all()
    counts = dict(
        db.session.execute(
            db.select(OutboxMessage.state, db.func.count()).group_by(OutboxMessage.state)
        ).all()
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template(
        "admin/outbox.html",
        rows=rows,
        state=state,
        states=OUTBOX_STATES,
        counts=counts,
        next_before=rows[-1].id if more else None,
        subject_of=subject_of,  # as sent: [#123] ...
    )


@bp.post("/outbox/<int:mail_id>/retry")
@roles_required("admin")
def retry_mail(mail_id: int):
    """Send a failed e-mail again: pending at once, its attempts start over."""
    with write_transaction():
        row = db.session.get(OutboxMessage, mail_id) or abort(404)
        failed = row.state == "failed"
        if failed:
            row.state, row.attempts, row.next_attempt_at = "pending", 0, None
            row.last_error = f"sent again by {current_user.username} after: {row.last_error or 'a failure'}"[
                :2000
            ]
    if not failed:
        flash(f"E-mail {mail_id} is {row.state}, not failed: nothing to send again.", "error")
        return redirect(url_for("admin.outbox")), 303
    flash(f"E-mail {mail_id} goes out again with the worker's next round.", "success")
    return redirect(url_for("admin.outbox", state="failed"))
