"""The outbox page for admins: every e-mail the worker sends, with its state, attempts and error.

A failed e-mail (a permanent SMTP refusal, or the last attempt of a temporary failure) stays
here with its error, so an undelivered survey or notification is visible, not lost silently.
"""

from flask import render_template

from app.access import roles_required
from app.extensions import db
from app.inputs import query_enum, query_int
from app.mail.compose import subject_of
from app.models import OUTBOX_STATES, OutboxMessage
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
