"""Staff's side of the conversation: internal notes on any ticket, and what the timeline shows of them."""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from app.access import roles_required
from app.customer_facing import internal_notes
from app.engine import NOTE_MAX, add_internal_note
from app.models import STAFF
from app.web.inbox.blueprint import bp
from app.web.inbox.routes import _visible_ticket


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
