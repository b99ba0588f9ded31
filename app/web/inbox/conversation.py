"""Staff's side of the conversation: internal notes, what the customer wrote unasked (the team's view of
unread tickets, marking them read), and what the timeline shows of notes."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import roles_required, scope_of, ticket_condition
from app.customer_facing import internal_notes
from app.engine import NOTE_MAX, READ_TASK, add_internal_note, read_customer_message
from app.extensions import db
from app.inputs import ascii_int
from app.models import STAFF, Customer, Ticket
from app.web.answers import Answer, request_answers
from app.web.inbox.blueprint import bp
from app.web.inbox.routes import _visible_ticket

bp.add_app_template_global(READ_TASK, "read_task_name")  # the engine's "Read the customer's message" task


@bp.app_template_global("request_answers")
def _request_answers(ticket: Ticket) -> list[Answer]:
    return request_answers(ticket)


@bp.app_template_global("internal_notes")
def _internal_notes(data) -> list[tuple[str, str]]:
    return internal_notes(data)


def back_to(ticket_id: int):
    """Where a form on the ticket or task page returns: the page it was sent from (inbox only)."""
    target = request.form.get("next", "")
    if target.startswith("/inbox") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("inbox.ticket_page", ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/notes")
@roles_required(*STAFF)
def add_note(ticket_id: int):
    """Add an internal note to the ticket's timeline (never shown to the customer)."""
    ticket = _visible_ticket(ticket_id)
    body = (request.form.get("note") or "").replace("\r\n", "\n").strip()
    if not body:
        flash("Write the note before adding it.", "error")
    elif len(body) > NOTE_MAX:
        flash(f"A note can be at most {NOTE_MAX} characters long; shorten it.", "error")
    else:
        add_internal_note(ticket.id, current_user._get_current_object(), body)
        flash("Internal note added to the timeline.", "success")
    return back_to(ticket.id)


UNREAD_PAGE = 50


@bp.post("/tickets/<int:ticket_id>/read")
@roles_required(*STAFF)
def mark_read(ticket_id: int):
    """Mark what the customer wrote as read: the badge clears and the reading task closes."""
    ticket = _visible_ticket(ticket_id)
    read_customer_message(ticket.id, current_user._get_current_object())
    flash("The customer's message is marked as read.", "success")
    return back_to(ticket.id)


@bp.get("/customer-wrote")
@roles_required(*STAFF)
def customer_wrote():
    """List the tickets of the person's teams with a customer's message nobody has read yet, oldest first."""
    user = current_user._get_current_object()
    condition = ticket_condition(scope_of(user), user.username)
    page = max(ascii_int(request.args.get("page")) or 1, 1)
    rows = db.session.execute(
        db.select(Ticket, Customer.name)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(Ticket.customer_unread_since.is_not(None), condition)
        .order_by(Ticket.customer_unread_since, Ticket.id)
        .offset((page - 1) * UNREAD_PAGE)
        .limit(UNREAD_PAGE + 1)
    ).all()
    return render_template(
        "inbox/customer_wrote.html",
        rows=rows[:UNREAD_PAGE],
        page=page,
        more=len(rows) > UNREAD_PAGE,
    )
