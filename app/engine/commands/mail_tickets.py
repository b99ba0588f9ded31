"""A ticket opened by e-mail: its type (the `mail_type` decision), its start data, the mail's files.

The type comes from the deployed DMN decision `mail_type` when one of its rules matches (inputs:
`sender`, `domain`, `subject`, `body`, `tier` and the `customer` profile; output `type`), else
from MAIL_DEFAULT_TYPE (`general`). The start form's required fields are filled from the mail: a
choice takes its default (else its first option), the first text field takes the mail's words.
"""

import logging

from flask import current_app

from app.clock import utcnow
from app.engine.commands.deploy import latest_definition
from app.engine.commands.tickets import start_process
from app.engine.commands.types import is_retired
from app.engine.errors import InvalidData, StepFailed
from app.engine.rules import dmn
from app.engine.runtime.history import history
from app.extensions import db
from app.mail.inbound import InboundMessage, clean_subject
from app.models import Attachment, Customer, Ticket

log = logging.getLogger(__name__)
DECISION = "mail_type"


def open_ticket_from_mail(customer: Customer, mail: InboundMessage, actor: str | None = None) -> Ticket:
    """Open the customer's ticket from a new mail, inside the calling command.

    Raises:
        InvalidData: neither the chosen type nor MAIL_DEFAULT_TYPE can open a ticket from a mail.
    """
    chosen = mail_ticket_type(customer, mail)
    text = conversation_text(mail)
    subject = clean_subject(mail.subject) or (mail.text.split("\n", 1)[0][:120] or "E-mail")
    for ticket_type in dict.fromkeys((chosen, current_app.config["MAIL_DEFAULT_TYPE"])):
        definition = latest_definition(ticket_type, "bpmn")
        data = start_data(definition.forms, definition.start_form, text) if definition else None
        if data is None or is_retired(ticket_type):
            continue
        ticket, _ = start_process(ticket_type, customer.id, subject, data, actor=actor or mail.sender)
        files = attach(ticket.id, mail, customer.user_id)
        history(
            "mail_received",
            ticket_id=ticket.id,
            actor=actor or mail.sender,
            data={"message_id": mail.message_id, "attachments": [f.id for f in files], "type": ticket_type},
        )
        return ticket
    raise InvalidData({"type": f"no ticket type can be opened from an e-mail (tried {chosen})"})


def mail_ticket_type(customer: Customer, mail: InboundMessage) -> str:
    """The type of a ticket a new mail opens: the `mail_type` decision's, else MAIL_DEFAULT_TYPE."""
    default = current_app.config["MAIL_DEFAULT_TYPE"]
    inputs = {
        "sender": mail.sender,
        "domain": mail.sender.rpartition("@")[2],
        "subject": mail.subject,
        "body": mail.text[:4000],
        "tier": customer.tier,
        "customer": customer.profile(),
    }
    try:
        decision = dmn.decide_rule(DECISION, inputs)
    except StepFailed as exc:  # a broken rule must not lose the mail: the default type takes it
        log.warning("decision %s failed on mail %s: %s", DECISION, mail.message_id, exc)
        return default
    chosen = decision.outputs.get("type") if decision is not None else None
    if isinstance(chosen, str) and latest_definition(chosen, "bpmn") is not None and not is_retired(chosen):
        return chosen
    return default


def start_data(forms: dict | None, start_form: str | None, text: str) -> dict | None:
    """Start data from a mail's text for a start form; None when the form asks what a mail cannot give."""
    form = (forms or {}).get(start_form) if start_form else None
    if not isinstance(form, dict):
        return {"description": text}
    props = form.get("properties") if isinstance(form.get("properties"), dict) else {}
    data: dict = {}
    placed = False
    for name in form.get("required") or []:
        prop = props.get(name) if isinstance(props.get(name), dict) else {}
        if isinstance(prop.get("enum"), list) and prop["enum"]:
            data[name] = prop.get("default") if prop.get("default") in prop["enum"] else prop["enum"][0]
        elif "default" in prop:
            data[name] = prop["default"]
        elif prop.get("type") == "string" and not placed:
            data[name], placed = text[: int(prop.get("maxLength") or 10000)], True
        else:
            return None
    if not placed:
        name = next(
            (n for n, p in props.items() if isinstance(p, dict) and p.get("x-widget") == "textarea"), None
        )
        if name is not None:
            data[name] = text[: int(props[name].get("maxLength") or 10000)]
    return data


def conversation_text(mail: InboundMessage) -> str:
    """The mail's words as the conversation shows them, with a note of the files not kept."""
    text = mail.text or "(the e-mail had no text)"
    if mail.refused_files:
        text += "\n\n[Not kept: " + "; ".join(mail.refused_files) + "]"
    return text


def attach(ticket_id: int, mail: InboundMessage, user_id: int | None) -> list[Attachment]:
    """Store the mail's files as attachments of the ticket, as a portal upload is stored."""
    files = [
        Attachment(
            ticket_id=ticket_id,
            filename=name,
            content_type=kind,
            size=len(content),
            data=content,
            uploaded_by_id=user_id,
            created_at=utcnow(),
        )
        for name, kind, content in mail.attachments
    ]
    db.session.add_all(files)
    db.session.flush()
    return files
