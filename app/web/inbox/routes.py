"""Inbox pages: the task page with its form; claim, release, reassign; the ticket page and cancelling a
ticket; writing to the customer; attachments for staff. The list itself is app/web/inbox/listing.py."""

import io
import json
from contextlib import nullcontext

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.access import (
    Scope,
    closed_task_visible,
    may_cancel,
    roles_required,
    scope_of,
    task_actions,
    ticket_visible,
)
from app.clock import utcnow
from app.engine import (
    Conflict,
    InvalidData,
    NotFound,
    StepFailed,
    TaskNotOpen,
    add_comment,
    cancel_instance,
    claim_task,
    closed_reason,
    complete_task,
    instance_of_ticket,
    reassign_task,
    release_task,
    task_data,
)
from app.extensions import db
from app.inputs import RefusedJSON, ascii_int, loads_strict
from app.models import STAFF, Attachment, HumanTask, Ticket, User
from app.transactions import write_transaction
from app.web.forms import (
    attachment_saver,
    has_uploads,
    initial_values,
    parse_submission,
    submission_errors,
    wants_more_rows,
)
from app.web.inbox.blueprint import bp
from app.web.inbox.pages import task_with_form, teammates, ticket_context
from app.web.inbox.stale import completed_by, typed_values

MAX_MESSAGE = 4000
PROCESS_DATA = "process_data"  # the optional JSON textarea of a task without a form


def parse_process_data(raw: str) -> tuple[dict, str | None]:
    """The JSON object typed into a formless task's textarea: (data, None) or ({}, message)."""
    if not raw.strip():
        return {}, None
    try:
        value = loads_strict(raw)  # no NaN or Infinity, no deep nesting, valid text (app/inputs.py)
    except RefusedJSON as exc:
        where = "" if exc.field == "body" else f" ({exc.field})"
        return {}, f"This JSON cannot be used{where}: {exc.message}."
    except ValueError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        return {}, f"This is not valid JSON{where}: {getattr(exc, 'msg', exc)}."
    if not isinstance(value, dict):
        return {}, 'Write a JSON object, e.g. {"approved": true}.'
    return value, None


def _user() -> User:
    return current_user._get_current_object()


def _gone(message: str, task_id: str | None = None, typed: list | None = None):
    """The 409 page for a task that closed; it says why and when when the history knows, who completed
    it, and shows what was `typed` (read-only) so a late agent can copy it."""
    reason = closed_reason(task_id) if task_id else None
    if reason:
        message = reason[:1].upper() + reason[1:] + "."
    completion = completed_by(task_id) if task_id else None
    return render_template("inbox/gone.html", message=message, completion=completion, typed=typed or []), 409


def _visible_task(task_id: str, scope: Scope) -> HumanTask | None:
    """The open task, None when it is no longer open; 404 when unknown or not the person's to see."""
    task = db.session.get(HumanTask, task_id) if len(task_id) <= 36 else None
    return _seen(task, task_id, scope)


def _visible_task_and_form(
    task_id: str, scope: Scope, to_complete: bool = False
) -> tuple[HumanTask | None, dict | None]:
    """`_visible_task` with the task's form, read in the same statement (`to_complete`: as the
    completion reads it, which then need not read it again)."""
    task, form = task_with_form(task_id, to_complete) if len(task_id) <= 36 else (None, None)
    return _seen(task, task_id, scope), form


def _seen(task: HumanTask | None, task_id: str, scope: Scope) -> HumanTask | None:
    if task is None:
        if not closed_task_visible(scope, task_id, _user().username):
            abort(404)
        return None
    if not scope.may_see(task):
        abort(404)
    return task


def _holder_message(task_id: str, doing: str) -> str | None:
    """ "Bob Berg claimed this task …" when someone else holds the task now (None otherwise)."""
    db.session.expire_all()  # the holder changed in another request: read it afresh
    task = db.session.get(HumanTask, task_id)
    if task is None or task.assignee_id in (None, _user().id):
        return None
    holder = db.session.get(User, task.assignee_id)
    name = holder.name if holder else "Someone else"
    return f"{name} holds this task now, so you cannot {doing} it. Ask them, or your team lead, to hand it to you."


def _task_page(
    task: HumanTask, schema: dict | None, values: dict, errors: dict, status: int = 200, kept: str = ""
):
    """The task page; `kept` (a message) shows the form with what was typed even when the person may no
    longer complete the task, so nothing typed is lost."""
    ticket = db.session.get(Ticket, task.ticket_id) if task.ticket_id else None
    g.form_currency = ticket.currency if ticket else None  # money fields say the ticket's currency
    now = utcnow()
    assignee = db.session.get(User, task.assignee_id) if task.assignee_id else None
    actions = task_actions(_user(), task)
    return render_template(
        "inbox/task.html",
        task=task,
        schema=schema,
        values=values,
        errors=errors,
        ctx=ticket_context(ticket, now) if ticket else None,
        assignee=assignee,
        actions=actions,
        teammates=teammates(task) if actions.reassign else [],
        kept=kept,
        now=now,
    ), status


@bp.get("/tasks/<task_id>")
@roles_required(*STAFF)
def task_page(task_id: str):
    """Show a task: its ticket, customer, conversation, timeline, instructions and form."""
    scope = scope_of(_user())
    task, schema = _visible_task_and_form(task_id, scope)
    if task is None:
        return _gone("This task is no longer open: someone completed it, or the process moved on.", task_id)
    values = {}
    if schema:
        try:
            values = initial_values(schema, task_data(task.id))
        except (NotFound, TaskNotOpen):
            return _gone(
                "This task is no longer open: someone completed it, or the process moved on.", task_id
            )
    return _task_page(task, schema, values, {})


@bp.post("/tasks/<task_id>")
@roles_required(*STAFF)
def complete(task_id: str):
    """Complete a task with its form; errors come back inline with what was typed."""
    user = _user()
    scope = scope_of(user)
    task, schema = _visible_task_and_form(task_id, scope, to_complete=True)
    if task is None:
        return _gone(
            "This task was already completed by someone else, or the process moved on. It is no longer open.",
            task_id,
            typed_values(request.form),
        )
    data, errors = ({}, {})
    shown = data  # what the page shows again after a failed submit
    if schema:
        # Uploads are stored in a transaction of their own, so they survive a failed submit; a
        # submit without one only reads, and the command may go on in the request's transaction.
        with write_transaction() if has_uploads(request.files) else nullcontext():
            data, errors = parse_submission(
                schema, request.form, request.files, attachment_saver(user.id, task.ticket_id)
            )
        if wants_more_rows(request.form):
            return _task_page(task, schema, data, errors)
        if errors:  # with the schema's errors of the other fields, so all show at once
            return _task_page(task, schema, data, submission_errors(schema, data, errors), 422)
        shown = data
    else:
        raw = request.form.get(PROCESS_DATA, "")
        shown = {PROCESS_DATA: raw}
        data, error = parse_process_data(raw)
        if error:
            return _task_page(task, schema, shown, {PROCESS_DATA: error}, 422)
    try:
        complete_task(task.id, data, user)
    except InvalidData as exc:
        found = (
            exc.errors
            if schema
            else {
                PROCESS_DATA: "; ".join(
                    f"{key}: {message}" if key != "data" else message for key, message in exc.errors.items()
                )
            }
        )
        return _task_page(task, schema, shown, found, 422)
    except TaskNotOpen as exc:
        return _gone(exc.message[:1].upper() + exc.message[1:] + ".", task.id, typed_values(request.form))
    except Conflict as exc:
        held = _holder_message(task.id, "complete")
        kept = (
            f"{held} What you typed is kept below."
            if held
            else f"You cannot complete this task: {exc.message}."
        )
        fresh = db.session.get(HumanTask, task.id) or task
        return _task_page(fresh, schema, shown, {}, 409, kept=kept)
    except StepFailed as exc:
        flash(
            f"The process could not go on after this task ({exc.message}); nothing was saved. "
            "Tell a process analyst.",
            "error",
        )
        return _task_page(task, schema, shown, {}, 422)
    flash(f"Done: “{task.title}”.", "success")
    return redirect(url_for("inbox.index"))


def _back(task_id: str):
    target = request.form.get("next", "")
    if target.startswith("/inbox") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("inbox.task_page", task_id=task_id))


def _task_command(task_id: str, action, done: str):
    scope = scope_of(_user())
    if _visible_task(task_id, scope) is None:
        flash("This task is no longer open.", "error")
        return redirect(url_for("inbox.index"))
    try:
        action()
    except Conflict as exc:
        flash(_holder_message(task_id, "change") or exc.message[:1].upper() + exc.message[1:] + ".", "error")
        return _back(task_id)
    except (TaskNotOpen, NotFound) as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
        return _back(task_id)
    flash(done, "success")
    return _back(task_id)


@bp.post("/tasks/<task_id>/claim")
@roles_required(*STAFF)
def claim(task_id: str):
    """Take an open task of the team."""
    return _task_command(task_id, lambda: claim_task(task_id, _user()), "The task is yours now.")


@bp.post("/tasks/<task_id>/release")
@roles_required(*STAFF)
def release(task_id: str):
    """Give a claimed task back to its team."""
    return _task_command(task_id, lambda: release_task(task_id, _user()), "The task is back with the team.")


@bp.post("/tasks/<task_id>/reassign")
@roles_required(*STAFF)
def reassign(task_id: str):
    """Hand a task to a teammate."""
    if _visible_task(task_id, scope_of(_user())) is None:  # 404 before anything else
        flash("This task is no longer open.", "error")
        return redirect(url_for("inbox.index"))
    raw = request.form.get("assignee", "")
    assignee = db.session.get(User, user_id) if (user_id := ascii_int(raw)) is not None else None
    if assignee is None:
        flash("Choose the teammate to hand the task to.", "error")
        return _back(task_id)
    return _task_command(
        task_id,
        lambda: reassign_task(task_id, _user(), assignee),
        f"The task now belongs to {assignee.name}.",
    )


def _visible_ticket(ticket_id: int) -> Ticket:
    user = _user()
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not ticket_visible(scope_of(user), ticket.id, user.username):
        abort(404)
    return ticket


@bp.get("/tickets/<int:ticket_id>")
@roles_required(*STAFF)
def ticket_page(ticket_id: int):
    """Show a ticket: customer, open tasks, conversation and timeline."""
    ticket = _visible_ticket(ticket_id)
    user = _user()
    scope = scope_of(user)
    ctx = ticket_context(ticket, utcnow())
    return render_template(
        "inbox/ticket.html",
        ctx=ctx,
        visible_tasks=[t for t in ctx.open_tasks if scope.may_see(t)],
        may_cancel=_running(ticket) and bool(may_cancel(user, ticket)),
    )


def _running(ticket: Ticket) -> bool:
    try:
        return instance_of_ticket(ticket.id).status in ("running", "incident")
    except NotFound:
        return False


@bp.post("/tickets/<int:ticket_id>/cancel")
@roles_required(*STAFF)
def cancel_ticket(ticket_id: int):
    """Cancel a ticket: its process stops, its open tasks close, it becomes 'cancelled' (the policy says who may)."""
    ticket = _visible_ticket(ticket_id)
    try:
        cancel_instance(instance_of_ticket(ticket.id).id, user=_user())
    except (Conflict, NotFound) as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
        return redirect(url_for("inbox.ticket_page", ticket_id=ticket.id))
    flash(f"Ticket #{ticket.id} was cancelled.", "success")
    return redirect(url_for("inbox.ticket_page", ticket_id=ticket.id))


@bp.post("/tickets/<int:ticket_id>/messages")
@roles_required(*STAFF)
def write_to_customer(ticket_id: int):
    """Send the customer a message: it joins the conversation and leaves as an e-mail."""
    ticket = _visible_ticket(ticket_id)
    body = (request.form.get("body") or "").replace("\r\n", "\n").strip()
    target = request.form.get("next", "")
    back = (
        target
        if target.startswith("/inbox") and not target.startswith("//")
        else url_for("inbox.ticket_page", ticket_id=ticket.id)
    )
    if not body:
        flash("Write a message before sending it.", "error")
        return redirect(back)
    if len(body) > MAX_MESSAGE:
        flash(f"The message is longer than {MAX_MESSAGE} characters; shorten it.", "error")
        return redirect(back)
    add_comment(ticket.id, _user(), body, notify_customer=True)
    flash(f"Message sent to {ticket.customer.name}.", "success")
    return redirect(back)


@bp.get("/attachments/<int:attachment_id>")
@roles_required(*STAFF)
def attachment(attachment_id: int):
    """Download an attachment of a ticket the person may see."""
    row = db.session.get(Attachment, attachment_id)
    user = _user()
    if row is None:
        abort(404)
    allowed = row.uploaded_by_id == user.id or (
        row.ticket_id is not None and ticket_visible(scope_of(user), row.ticket_id, user.username)
    )
    if not allowed:
        abort(404)
    response = send_file(
        io.BytesIO(row.data),
        mimetype=row.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=row.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
