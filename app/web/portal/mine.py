"""The signed-in customer and what they may see: their profile, their tickets, nothing else (404)."""

from flask import abort
from flask_login import current_user

from app.customer_facing import resolution_label, status_label  # noqa: F401 (the portal's labels)
from app.extensions import db
from app.models import Attachment, Comment, Customer, MessageSubscription, Ticket
from app.sla import STOPPING

REPLY_MESSAGE = "customer_reply"  # the message name the shipped processes wait for


def current_customer() -> Customer:
    """The customer profile of the signed-in user; 404 when they have none."""
    customer = db.session.execute(db.select(Customer).where(Customer.user_id == current_user.id)).scalar()
    if customer is None:
        abort(404)
    return customer


def own_ticket(ticket_id: int) -> Ticket:
    """The ticket when it belongs to the signed-in customer; a 404 otherwise (never a 403)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.customer.user_id != current_user.id:
        abort(404)
    return ticket


def waits_for_reply(ticket_id: int) -> bool:
    """Whether the ticket's process waits for the customer's answer right now."""
    return (
        db.session.execute(
            db.select(MessageSubscription.id)
            .where(MessageSubscription.ticket_id == ticket_id, MessageSubscription.name == REPLY_MESSAGE)
            .limit(1)
        ).scalar()
        is not None
    )


def tickets_waiting_for_reply(ticket_ids: list[int]) -> set[int]:
    """Which of these tickets wait for the customer's answer (one query for a whole list)."""
    if not ticket_ids:
        return set()
    return set(
        db.session.execute(
            db.select(MessageSubscription.ticket_id).where(
                MessageSubscription.ticket_id.in_(ticket_ids), MessageSubscription.name == REPLY_MESSAGE
            )
        ).scalars()
    )


def latest_request(ticket_id: int) -> Comment | None:
    """The newest message the process sent the customer (a system comment): what it asks."""
    return db.session.execute(
        db.select(Comment)
        .where(Comment.ticket_id == ticket_id, Comment.author_kind == "system")
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(1)
    ).scalar()


def expectation(ticket: Ticket, waiting: bool) -> str:
    """One sentence telling the customer what, if anything, they need to do now."""
    if waiting:
        return "We need more information from you: please answer the question below."
    if ticket.status == "awaiting_return":
        return (
            "Please send the items back as described in our message; we will pay you back once they arrive."
        )
    if ticket.status in STOPPING:
        return (
            "This ticket is closed. If something is still not right, write to us below: our team will read it. "
            "For something new, open a new ticket."
        )
    return "Nothing to do for now: our team is working on it and will write to you here and by e-mail."


def attachments_of(ticket_id: int) -> list[Attachment]:
    """The files attached to a ticket (without their bytes), oldest first."""
    return (
        db.session.execute(
            db.select(Attachment)
            .where(Attachment.ticket_id == ticket_id)
            .order_by(Attachment.created_at, Attachment.id)
        )
        .scalars()
        .all()
    )


def own_attachment(attachment_id: int) -> Attachment:
    """A file of one of the signed-in customer's tickets; a 404 otherwise."""
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.ticket_id is None:
        abort(404)
    own_ticket(row.ticket_id)
    return row
