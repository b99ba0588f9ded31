"""An outbox row as an e-mail: plain text and HTML from the mail templates, thread headers.

Each row's event (a survey, an escalation, an alert, any other ticket notification) picks its
templates `mail/<event>.txt` and `mail/<event>.html`, both with the company's name and colour.
A ticket's mails to one recipient form a thread: every one references the ticket's root id
`<ticket-<id>@<domain>>` and the earlier mails' `Message-ID`s; the subject carries `[#<id>]`
and the reply-to address `support+<id>@...` routes replies back to the ticket.
"""

import re
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from flask import current_app, render_template
from markupsafe import Markup, escape

from app.clock import utcnow
from app.extensions import db
from app.models import OutboxMessage

TICKET_PREFIX = re.compile(r"^\s*\[(?:Ticket\s*)?#\d+\]\s*")
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
THREAD_DEPTH = 20  # earlier Message-IDs kept in References


def event_of(row: OutboxMessage) -> str:
    """Which templates render the row: survey, escalation, alert, agent or notification."""
    payload = row.payload or {}
    if "feedback_request_id" in payload:
        return "survey"
    if payload.get("escalation"):
        return "escalation"
    if "alert_event_id" in payload:
        return "alert"
    if payload.get("agent"):  # to an agent: a task assigned, the customer wrote
        return "agent"
    return "notification"


def subject_of(row: OutboxMessage) -> str:
    """The subject with the ticket's reference in front, `[#123] ...` (no reference without a ticket)."""
    rest = TICKET_PREFIX.sub("", row.subject or "").strip()
    return f"[#{row.ticket_id}] {rest}" if row.ticket_id else rest


def domain() -> str:
    return parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"


def new_message_id(row: OutboxMessage) -> str:
    return make_msgid(idstring=f"outbox.{row.id}", domain=domain())


def reply_to(ticket_id: int | None) -> str:
    """MAIL_REPLY_TO (else MAIL_FROM) with the ticket's id as plus-address: support+123@example.com."""
    config = current_app.config
    name, address = parseaddr(config.get("MAIL_REPLY_TO") or config["MAIL_FROM"])
    if ticket_id is None:
        return formataddr((name, address))
    local, _, host = address.partition("@")
    return formataddr((name, f"{local.split('+')[0]}+{ticket_id}@{host}"))


def thread_of(row: OutboxMessage) -> list[str]:
    """The Message-IDs this mail answers: the ticket's root, then the recipient's earlier mails."""
    if row.ticket_id is None:
        return []
    earlier = db.session.execute(
        db.select(OutboxMessage.message_id)
        .where(
            OutboxMessage.ticket_id == row.ticket_id,
            OutboxMessage.recipient == row.recipient,
            OutboxMessage.id < row.id,
            OutboxMessage.message_id.is_not(None),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(THREAD_DEPTH)
    ).scalars()
    return [f"<ticket-{row.ticket_id}@{domain()}>", *reversed(list(earlier))]


def linkify(text: str) -> Markup:
    """Text as HTML: escaped, its http(s) links clickable."""
    out, last = [], 0
    for match in URL.finditer(text):
        out.append(escape(text[last : match.start()]))
        url = escape(match.group(0))
        out.append(Markup('<a href="{0}" target="_blank" rel="noopener">{0}</a>').format(url))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _sender() -> str:
    config = current_app.config
    name, address = parseaddr(config["MAIL_FROM"])
    return formataddr((name or config["COMPANY_NAME"], address))


def compose(row: OutboxMessage) -> EmailMessage:
    """The message for a claimed row (its `message_id` set by the claim)."""
    config = current_app.config
    event = event_of(row)
    body = (row.body or "").replace("\r\n", "\n")
    links = URL.findall(body)
    context = {
        "company": config["COMPANY_NAME"],
        "colour": config["COMPANY_COLOUR"],
        "subject": subject_of(row),
        "body": body,
        "paragraphs": [linkify(p) for p in re.split(r"\n\s*\n", body) if p.strip()],
        "action_url": links[0] if links else None,
        "ticket_id": row.ticket_id,
        "reminder": bool((row.payload or {}).get("reminder")),
    }
    message = EmailMessage()
    message["From"] = _sender()
    message["To"] = row.recipient
    message["Subject"] = context["subject"]
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = row.message_id
    message["Reply-To"] = reply_to(row.ticket_id)
    thread = thread_of(row)
    if thread:
        message["In-Reply-To"] = thread[-1]
        message["References"] = " ".join(thread)
    if row.ticket_id is not None:
        message["X-Ticketflow-Ticket"] = str(row.ticket_id)
    if event != "notification":  # written by no person (RFC 3834): auto-responders must not answer
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template(f"mail/{event}.txt", **context))
    message.add_alternative(render_template(f"mail/{event}.html", **context), subtype="html")
    return message


__all__ = ["compose", "event_of", "linkify", "new_message_id", "reply_to", "subject_of"]
