"""E-mail in: a message the mail gateway received becomes a reply, a flag, a new ticket or a held mail.

`receive_customer_mail` is the one command the gateway calls per message (app/mail/gateway.py);
the message is read by app/mail/inbound.py. In order:

1. A Message-ID seen before is ignored (an MTA may deliver a message twice).
2. An auto-reply or a bounce is recorded as `dropped`: it opens nothing and is never answered.
3. A reply to a ticket's thread: its In-Reply-To/References name a mail the outbox sent to the
   ticket's customer; else the ticket root id, `[#123]` in the subject or `support+123@`, taken
   only from the ticket's customer's own address. When the ticket waits for the customer's
   answer (`customer_reply`), the message is delivered to it, as a portal answer is; otherwise it
   joins the conversation and flags the ticket to its team (reopening a lately closed one:
   customer_messages.flag_customer_message, as a portal message does).
4. Else a new ticket for the customer with that address (its type from the `mail_type` DMN
   decision, else MAIL_DEFAULT_TYPE); an unknown address gets a customer profile
   (MAIL_UNKNOWN_SENDERS=create) or the mail is held for an admin (`hold`, /admin/held-mail).

Files come along as attachments of the ticket, within the portal's limits.
"""

import logging
import re

from flask import current_app

from app.clock import utcnow
from app.engine.commands.agent_mail import mail_customer_wrote
from app.engine.commands.customer_messages import flag_customer_message
from app.engine.commands.mail_tickets import (
    attach,
    conversation_text,
    mail_ticket_type,
    open_ticket_from_mail,
)
from app.engine.commands.messages import deliver_message
from app.engine.errors import Conflict, InvalidData, NotFound, StepFailed
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.extensions import db
from app.mail.inbound import InboundMessage, parse
from app.models import (
    STAFF,
    Comment,
    Customer,
    InboundMail,
    MessageSubscription,
    OutboxMessage,
    Ticket,
    User,
)

log = logging.getLogger(__name__)
REPLY_MESSAGE = "customer_reply"  # the message the shipped processes wait for (as the portal's answer)
ROOT_ID = re.compile(r"^<ticket-(\d{1,9})@")

__all__ = ["discard_held_mail", "mail_ticket_type", "open_held_mail", "receive_customer_mail"]


def receive_customer_mail(raw: bytes, mail_from: str | None = None, rcpt_tos=()) -> str:
    """Act on one received e-mail (see the module's docstring) in one transaction.

    Args:
        raw: the message as received.
        mail_from: the envelope's return path ("" for a bounce's null path), when known.
        rcpt_tos: the envelope's recipients (a `support+123@` address names the ticket).

    Returns:
        What became of it: delivered, flagged, opened, held, dropped or duplicate.

    When the process fails on the reply, or no ticket can be opened from the mail, nothing of that
    attempt stays: the reply is then only flagged to the team, the new mail held for an admin with
    the reason (so the sending server is not asked to try again a mail that would fail again).
    """
    mail = parse(raw, mail_from, list(rcpt_tos))
    failure: list[str] = []  # the reason the first attempt failed, for the second

    def command():
        if _seen(mail.message_id):
            log.info("mail %s was received before: ignored", mail.message_id)
            return "duplicate"
        if mail.automatic:
            log.info("mail %s from %r dropped: %s", mail.message_id, mail.sender, mail.automatic)
            return _record(mail, "dropped", mail.automatic)
        if _is_staff(mail.sender):
            return _record(mail, "dropped", "written by a staff member's address")
        ticket = _thread_ticket(mail)
        if ticket is not None:
            return _to_ticket(ticket, mail, deliver=not failure)
        if failure:
            return _record(mail, "held", f"no ticket could be opened: {failure[0]}", raw=raw)
        customer = _customer(mail.sender)
        if customer is None and current_app.config["MAIL_UNKNOWN_SENDERS"] == "hold":
            log.info("mail %s from unknown %r held for review", mail.message_id, mail.sender)
            return _record(mail, "held", "an unknown sender", raw=raw)
        ticket = open_ticket_from_mail(customer or _new_customer(mail), mail)
        return _record(mail, "opened", None, ticket_id=ticket.id)

    try:
        return run_command(command)
    except (StepFailed, InvalidData) as exc:
        log.warning("mail %s: %s; trying without it", mail.message_id, exc)
        failure.append(str(exc)[:200])
        return run_command(command)


def open_held_mail(mail_id: int, user: User) -> int:
    """Open a ticket from a held mail (an admin's choice): a customer profile for its sender if needed.

    Returns:
        The id of the new ticket.

    Raises:
        NotFound: no such mail (404).
        Conflict: the mail is not held any more (409).
    """

    def command():
        row = _held(mail_id)
        mail = parse(row.raw or b"")
        ticket = open_ticket_from_mail(
            _customer(mail.sender) or _new_customer(mail), mail, actor=user.username
        )
        row.outcome, row.ticket_id, row.raw = "opened", ticket.id, None
        row.reason = f"opened as a ticket by {user.username}"
        history("mail_opened", ticket_id=ticket.id, actor=user.username, data={"inbound_mail_id": row.id})
        return ticket.id

    return run_command(command)


def discard_held_mail(mail_id: int, user: User) -> None:
    """Throw a held mail away (its bytes go; the row stays so the message is not taken again).

    Raises:
        NotFound: no such mail (404).
        Conflict: the mail is not held any more (409).
    """

    def command():
        row = _held(mail_id)
        row.outcome, row.raw, row.reason = "discarded", None, f"discarded by {user.username}"

    run_command(command)


def _held(mail_id: int) -> InboundMail:
    row = db.session.get(InboundMail, mail_id)
    if row is None:
        raise NotFound(f"no received mail {mail_id}")
    if row.outcome != "held":
        raise Conflict(f"mail {mail_id} is {row.outcome}, not held")
    return row


def _seen(message_id: str) -> bool:
    return (
        db.session.execute(db.select(InboundMail.id).where(InboundMail.message_id == message_id)).scalar()
        is not None
    )


def _record(
    mail: InboundMessage,
    outcome: str,
    reason: str | None,
    ticket_id: int | None = None,
    raw: bytes | None = None,
) -> str:
    db.session.add(
        InboundMail(
            message_id=mail.message_id,
            sender=mail.sender[:300] or "(unknown)",
            subject=mail.subject[:300],
            outcome=outcome,
            reason=reason[:300] if reason else None,
            ticket_id=ticket_id,
            size=mail.size,
            received_at=utcnow(),
            raw=raw,
        )
    )
    db.session.flush()
    return outcome


def _is_staff(address: str) -> bool:
    return (
        db.session.execute(
            db.select(User.id).where(db.func.lower(User.email) == address, User.role.in_(STAFF)).limit(1)
        ).scalar()
        is not None
    )


def _customer(address: str) -> Customer | None:
    """The customer with this address (the oldest profile when several share it)."""
    if not address:
        return None
    return db.session.execute(
        db.select(Customer).where(db.func.lower(Customer.email) == address).order_by(Customer.id).limit(1)
    ).scalar()


def _new_customer(mail: InboundMessage) -> Customer:
    customer = Customer(
        name=(mail.sender_name or mail.sender.partition("@")[0] or "Customer")[:200],
        email=mail.sender[:200],
        created_at=utcnow(),
    )
    db.session.add(customer)
    db.session.flush()
    return customer


def _thread_ticket(mail: InboundMessage) -> Ticket | None:
    """The ticket the mail answers, or None (see the module's docstring, step 3)."""
    if mail.answers:
        row = db.session.execute(
            db.select(OutboxMessage.ticket_id, OutboxMessage.recipient)
            .where(OutboxMessage.message_id.in_(mail.answers[:50]), OutboxMessage.ticket_id.is_not(None))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            ticket = db.session.get(Ticket, row.ticket_id)
            if _address(row.recipient) == _address(ticket.customer.email) or _from_customer(ticket, mail):
                return ticket
    roots = [int(m.group(1)) for m in map(ROOT_ID.match, mail.answers) if m]
    for ticket_id in (*roots, mail.subject_ticket, mail.address_ticket):
        ticket = db.session.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket is not None and _from_customer(ticket, mail):
            return ticket
    return None


def _address(value: str | None) -> str:
    return (value or "").strip().lower()


def _from_customer(ticket: Ticket, mail: InboundMessage) -> bool:
    return bool(mail.sender) and _address(ticket.customer.email) == mail.sender


def _to_ticket(ticket: Ticket, mail: InboundMessage, deliver: bool = True) -> str:
    """The mail as the customer's message on `ticket`: delivered when it waits (and `deliver`), else flagged."""
    now = utcnow()
    customer = ticket.customer
    author = db.session.get(User, customer.user_id) if customer.user_id else None
    actor = author.username if author else mail.sender
    text = conversation_text(mail)
    comment = Comment(
        ticket_id=ticket.id, author_id=customer.user_id, author_kind="customer", body=text, created_at=now
    )
    db.session.add(comment)
    ticket.updated_at = now
    files = attach(ticket.id, mail, customer.user_id)
    waiting = deliver and (
        db.session.execute(
            db.select(MessageSubscription.id)
            .where(MessageSubscription.ticket_id == ticket.id, MessageSubscription.name == REPLY_MESSAGE)
            .limit(1)
        ).scalar()
        is not None
    )
    data = {
        "comment_id": comment.id,
        "author_kind": "customer",
        "channel": "email",
        "attachments": [f.id for f in files],
        **({"answers": REPLY_MESSAGE} if waiting else {}),
    }
    history("comment_added", ticket_id=ticket.id, actor=actor, at=now, data=data)
    if waiting:
        payload: dict = {"message": text}
        if files:
            payload["attachments"] = [f.filename for f in files]
        deliver_message(ticket.id, REPLY_MESSAGE, payload, actor=actor)  # joins this command
        outcome = "delivered"
    else:
        flag_customer_message(ticket, comment.id, actor)
        outcome = "flagged"
    mail_customer_wrote(ticket, text, "by e-mail")
    return _record(mail, outcome, None, ticket_id=ticket.id)
