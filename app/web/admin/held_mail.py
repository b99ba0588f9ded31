"""Held mail for admins: new e-mails from unknown senders (MAIL_UNKNOWN_SENDERS=hold), to open or discard.

Opening one makes a customer profile for its sender (unless one appeared meanwhile) and a ticket
of the type the `mail_type` rules choose; discarding drops its bytes. Either way the message's
row stays, so the same message delivered again is still recognised and ignored.
"""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import undefer

from app.access import roles_required
from app.engine import discard_held_mail, open_held_mail
from app.extensions import db
from app.inputs import query_int
from app.mail.inbound import parse
from app.models import InboundMail
from app.web.admin.blueprint import bp

PAGE = 50
EXCERPT = 300


@bp.get("/held-mail")
@roles_required("admin")
def held_mail():
    """List the held e-mails, newest first, 50 a page, with the start of each message."""
    before = query_int("before", minimum=1)
    query = (
        db.select(InboundMail)
        .options(undefer(InboundMail.raw))
        .where(InboundMail.outcome == "held")
        .order_by(InboundMail.id.desc())
        .limit(PAGE + 1)
    )
    if before:
        query = query.where(InboundMail.id < before)
    rows = db.session.execute(query).scalars().all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    previews = {}
    for row in rows:
        message = parse(row.raw or b"")
        text = message.text if len(message.text) <= EXCERPT else message.text[:EXCERPT].rstrip() + " …"
        previews[row.id] = (message.sender_name, text, [name for name, _, _ in message.attachments])
    return render_template(
        "admin/held_mail.html", rows=rows, previews=previews, next_before=rows[-1].id if more else None
    )


@bp.post("/held-mail/<int:mail_id>/open")
@roles_required("admin")
def open_mail(mail_id: int):
    """Open a held e-mail as a ticket of its sender."""
    ticket_id = open_held_mail(mail_id, current_user._get_current_object())
    flash(f"Ticket #{ticket_id} is open.", "success")
    return redirect(url_for("admin.held_mail"))


@bp.post("/held-mail/<int:mail_id>/discard")
@roles_required("admin")
def discard_mail(mail_id: int):
    """Discard a held e-mail."""
    discard_held_mail(mail_id, current_user._get_current_object())
    flash(f"E-mail {mail_id} was discarded.", "success")
    return redirect(url_for("admin.held_mail"))
