"""Portal pages that open a ticket: choose a ticket type, fill in its start form, start the process."""

from contextlib import nullcontext

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import roles_required
from app.engine import InvalidData, retired_types, start_process
from app.extensions import db
from app.models import Attachment, ProcessDefinition
from app.transactions import write_transaction
from app.web.forms import (
    REQUIRED,
    attachment_saver,
    has_uploads,
    initial_values,
    parse_submission,
    submission_errors,
    wants_more_rows,
)
from app.web.portal.blueprint import bp
from app.web.portal.mine import current_customer

MAX_SUBJECT = 300


def _latest_definitions():
    """The newest BPMN version of every deployed process key (without its diagram source)."""
    newest = (
        db.select(ProcessDefinition.key, db.func.max(ProcessDefinition.version).label("version"))
        .where(ProcessDefinition.kind == "bpmn")
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    return (
        db.select(
            ProcessDefinition.key,
            ProcessDefinition.name,
            ProcessDefinition.start_form,
            ProcessDefinition.forms,
        )
        .join(
            newest, (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.version)
        )
        .where(ProcessDefinition.kind == "bpmn")
    )


def type_names() -> dict[str, str]:
    """{process key: name} of the deployed ticket types, for showing a ticket's type."""
    rows = db.session.execute(
        db.select(ProcessDefinition.key, ProcessDefinition.name)
        .where(ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.version)
    ).all()
    return {key: name or key.replace("_", " ").capitalize() for key, name in rows}


# A type without a start form asks for a subject and this description (data `description`).
DESCRIPTION_FORM = {
    "type": "object",
    "properties": {
        "description": {
            "type": "string",
            "title": "Description",
            "x-widget": "textarea",
            "maxLength": 10000,
            "description": "Tell us what happened and what you would like us to do.",
        }
    },
}


def ticket_types() -> list[dict]:
    """The ticket types a customer can open: every deployed process not retired, with its start
    form or, when it has none, a subject and a description."""
    types, retired = [], retired_types()
    for key, name, start_form, forms in db.session.execute(_latest_definitions()).all():
        if key in retired:
            continue
        form = (forms or {}).get(start_form) if start_form else None
        if not isinstance(form, dict):
            form = DESCRIPTION_FORM
        if form.get("x-portal") is False:  # opened by other systems (the shop), not by customers
            continue
        types.append(
            {
                "key": key,
                "name": name or key.replace("_", " ").capitalize(),
                "title": form.get("title"),
                "description": form.get("description"),
                "schema": form,
            }
        )
    return sorted(types, key=lambda t: t["name"].lower())


def _ticket_type(key: str) -> dict:
    found = next((t for t in ticket_types() if t["key"] == key), None)
    if found is None:
        abort(404)
    return found


@bp.get("/new")
@roles_required("customer")
def new_ticket_types():
    """Choose the type of ticket to open."""
    return render_template("portal/types.html", types=ticket_types())


@bp.route("/new/<ticket_type>", methods=["GET", "POST"])
@roles_required("customer")
def new_ticket(ticket_type: str):
    """Show a ticket type's start form; open the ticket and start its process."""
    kind = _ticket_type(ticket_type)
    customer = current_customer()
    if request.method == "GET":
        return _form_page(kind, "", initial_values(kind["schema"], {}), {})
    subject = request.form.get("subject", "").strip()
    # Files attached so far are kept in a transaction of their own (they stay the uploader's
    # until tied to a ticket); without one the submit only reads until the ticket's command.
    with write_transaction() if has_uploads(request.files) else nullcontext():
        data, errors = parse_submission(
            kind["schema"], request.form, request.files, save_file=attachment_saver(current_user.id)
        )
    if wants_more_rows(request.form):
        return _form_page(kind, subject, data, {})
    errors = submission_errors(kind["schema"], data, errors)  # every field at once, with the subject
    if not subject:
        errors["subject"] = REQUIRED
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = f"must be at most {MAX_SUBJECT} characters"
    if errors:
        return _form_page(kind, subject, data, errors, 422)
    try:
        ticket, _ = start_process(kind["key"], customer.id, subject, data, actor=current_user.username)
    except InvalidData as exc:
        return _form_page(kind, subject, data, form_errors(exc.errors), 422)
    with write_transaction():
        _tie_attachments(data, ticket.id)
    flash(f"Thank you: ticket #{ticket.id} is open. We will keep you posted here and by e-mail.", "success")
    return redirect(url_for("portal.ticket", ticket_id=ticket.id))


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """Field paths of the start form from the engine's (`data.amount` -> `amount`)."""
    return {key.removeprefix("data."): message for key, message in errors.items()}


def _form_page(kind: dict, subject: str, values: dict, errors: dict, status: int = 200):
    g.form_currency = current_customer().currency  # money fields say the customer's currency
    fields = {name for name in (kind["schema"].get("properties") or {})}
    general = [
        message
        for key, message in errors.items()
        if key not in ("subject", "data") and key.split(".", 1)[0] not in fields
    ]
    return render_template(
        "portal/new.html",
        kind=kind,
        subject=subject,
        values=values,
        errors=errors,
        general_errors=general,
        max_subject=MAX_SUBJECT,
    ), status


def _attachment_ids(value) -> set[int]:
    if isinstance(value, dict):
        found = {value["attachment_id"]} if isinstance(value.get("attachment_id"), int) else set()
        for item in value.values():
            found |= _attachment_ids(item)
        return found
    if isinstance(value, list):
        return set().union(*(_attachment_ids(item) for item in value)) if value else set()
    return set()


def _tie_attachments(data: dict, ticket_id: int) -> None:
    """Give the files of the start form to the new ticket (only the uploader's own, not yet tied)."""
    ids = _attachment_ids(data)
    if ids:
        db.session.execute(
            db.update(Attachment)
            .where(
                Attachment.id.in_(ids),
                Attachment.uploaded_by_id == current_user.id,
                Attachment.ticket_id.is_(None),
            )
            .values(ticket_id=ticket_id)
        )
