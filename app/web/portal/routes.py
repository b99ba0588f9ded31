"""Portal pages: the customer's tickets, one ticket with its conversation, messages and answers."""

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.access import roles_required
from app.engine import NotFound, add_comment, answer_question
from app.extensions import db
from app.models import Comment, Ticket, User
from app.web.answers import request_answers
from app.web.forms import read_attachment
from app.web.portal import opening
from app.web.portal.blueprint import bp
from app.web.portal.engagement import record_portal_visit
from app.web.portal.mine import (
    REPLY_MESSAGE,
    attachments_of,
    current_customer,
    expectation,
    latest_request,
    own_attachment,
    own_ticket,
    resolution_label,
    status_label,
    tickets_waiting_for_reply,
    waits_for_reply,
)

MAX_MESSAGE = 4000
MAX_REPLY_FILES = 5


@bp.app_template_filter("status_label")
def _status_label(status: str | None) -> str:
    return status_label(status)


@bp.app_template_global("customer_resolution")
def _customer_resolution(ticket: Ticket) -> str:
    """The resolution a customer may read ("Refunded"), or "" for an internal outcome ("satisfactory")."""
    return resolution_label(ticket.resolution)


@bp.get("/")
@roles_required("customer")
def index():
    """List the signed-in customer's tickets, newest first."""
    customer = current_customer()
    record_portal_visit(customer)  # engagement for a running onboarding
    tickets = (
        db.session.execute(
            db.select(Ticket)
            .where(Ticket.customer_id == customer.id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        )
        .scalars()
        .all()
    )
    waiting = tickets_waiting_for_reply([t.id for t in tickets])
    return render_template(
        "portal/index.html", tickets=tickets, waiting=waiting, type_names=opening.type_names()
    )


@bp.get("/tickets/<int:ticket_id>")
@roles_required("customer")
def ticket(ticket_id: int):
    """Show one of the customer's tickets: status, conversation, and what is expected of them."""
    return _ticket_page(own_ticket(ticket_id))


def _ticket_page(ticket: Ticket, message: str = "", error: str | None = None, status: int = 200):
    waiting = waits_for_reply(ticket.id)
    comments = (
        db.session.execute(
            db.select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.created_at, Comment.id)
        )
        .scalars()
        .all()
    )
    agent_ids = {c.author_id for c in comments if c.author_kind == "agent" and c.author_id}
    author_names = (
        dict(db.session.execute(db.select(User.id, User.name).where(User.id.in_(agent_ids))).all())
        if agent_ids
        else {}
    )
    return render_template(
        "portal/ticket.html",
        ticket=ticket,
        comments=comments,
        waiting=waiting,
        author_names=author_names,
        request_comment=latest_request(ticket.id) if waiting else None,
        expectation=expectation(ticket, waiting),
        type_name=opening.type_names().get(ticket.type, ticket.type),
        message=message,
        error=error,
        attachments=attachments_of(ticket.id),
        answers=request_answers(ticket),
        max_message=MAX_MESSAGE,
    ), status


def _message_text() -> tuple[str, str | None]:
    text = request.form.get("message", "").replace("\r\n", "\n").strip()
    if not text:
        return text, "Write a message first."
    if len(text) > MAX_MESSAGE:
        return text, f"A message can be at most {MAX_MESSAGE} characters long."
    return text, None


@bp.post("/tickets/<int:ticket_id>/messages")
@roles_required("customer")
def write_message(ticket_id: int):
    """Add the customer's message to the ticket's conversation."""
    ticket = own_ticket(ticket_id)
    text, error = _message_text()
    if error:
        return _ticket_page(ticket, text, error, 422)
    add_comment(ticket.id, current_user._get_current_object(), text)
    flash("Your message was added to the conversation, and our team was told.", "success")
    return redirect(url_for("portal.ticket", ticket_id=ticket.id))


def _uploads() -> list[tuple[str, str, bytes]] | str:
    """The files attached to an answer, read and checked once (a retried command stores them again).

    Raises:
        ValueError: a file is empty or too large (the message is for the person).
    """
    files = [f for f in request.files.getlist("attachment") if f and f.filename]
    if len(files) > MAX_REPLY_FILES:
        return f"Attach at most {MAX_REPLY_FILES} files."
    return [read_attachment(f) for f in files]


@bp.post("/tickets/<int:ticket_id>/reply")
@roles_required("customer")
def reply(ticket_id: int):
    """Answer the process's question: deliver the answer to the waiting process and keep it."""
    ticket = own_ticket(ticket_id)
    text, error = _message_text()
    try:
        uploads = _uploads()
    except ValueError as exc:  # an empty or too large file: nothing is stored or delivered
        uploads = f"The attached file cannot be used: {exc}."
    if isinstance(uploads, str):
        error = error or uploads
    if error:
        return _ticket_page(ticket, text, error, 422)
    try:  # the answer, its files and the delivery commit together or not at all
        answer_question(
            ticket_id, current_user._get_current_object(), text, message=REPLY_MESSAGE, attachments=uploads
        )
    except NotFound:
        return render_template("portal/not_waiting.html", ticket=own_ticket(ticket_id), message=text), 409
    flash("Thank you: your answer was sent to our team.", "success")
    return redirect(url_for("portal.ticket", ticket_id=ticket_id))


@bp.get("/attachments/<int:attachment_id>")
@roles_required("customer")
def attachment(attachment_id: int):
    """Download a file of one of the customer's tickets."""
    row = own_attachment(attachment_id)
    answer = send_file(
        io.BytesIO(row.data),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=row.filename,
    )
    answer.headers["X-Content-Type-Options"] = "nosniff"
    return answer
