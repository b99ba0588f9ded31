"""Canned replies: admins and team leads keep named reply texts; agents insert them when writing.

A reply's text may use placeholders (`{{ customer.name }}`, `{{ ticket.reference }}`, ...): it
is rendered for the ticket with the engine's bounded, sandboxed template rendering (the one task
instructions use), so a reply can neither reach into the application nor run for long. The write
box offers the replies rendered for its ticket; a small static script inserts the chosen one.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import Scope, roles_required, scope_of
from app.clock import utcnow
from app.engine import InvalidData, preview_instructions
from app.extensions import db
from app.models import CANNED_BODY_MAX, CANNED_NAME_MAX, STAFF, CannedReply, Team, Ticket, User
from app.transactions import write_transaction
from app.web.inbox.blueprint import bp

MAX_REPLIES = 200  # offered in one write box
PLACEHOLDERS = (
    ("{{ customer.name }}", "the customer's name"),
    ("{{ ticket.reference }}", "the ticket's reference, e.g. #12"),
    ("{{ ticket.subject }}", "the ticket's subject"),
    ("{{ agent.name }}", "your name"),
)
SAMPLE = {
    "customer": {"name": "Jane Doe", "email": "jane@example.com"},
    "ticket": {"id": 1, "reference": "#1", "subject": "Shoes arrived damaged", "type": "return"},
    "agent": {"name": "Alice"},
}


def _user() -> User:
    return current_user._get_current_object()


def editable_teams(user: User, scope: Scope) -> list[str] | None:
    """The team keys whose replies the person keeps; None: every team and the shared ones (an admin)."""
    if user.role == "admin":
        return None
    return list(scope.lead_keys)


def may_edit(user: User, scope: Scope, reply: CannedReply | None = None) -> bool:
    teams = editable_teams(user, scope)
    if teams is None:
        return True
    return bool(teams) and (reply is None or reply.team_key in teams)


def offered_replies(user: User, ticket: Ticket) -> list[tuple[CannedReply, str]]:
    """The replies the person may use, rendered for the ticket (its source when it does not render)."""
    scope = scope_of(user)
    query = db.select(CannedReply).order_by(CannedReply.name).limit(MAX_REPLIES)
    if not scope.sees_all:
        query = query.where(CannedReply.team_key.is_(None) | CannedReply.team_key.in_(scope.team_keys))
    data = {
        "customer": {"name": ticket.customer.name, "email": ticket.customer.email},
        "ticket": {
            "id": ticket.id,
            "reference": f"#{ticket.id}",
            "subject": ticket.subject,
            "type": ticket.type,
        },
        "agent": {"name": user.name},
    }
    offered = []
    for reply in db.session.execute(query).scalars():
        try:
            text, _ = preview_instructions(reply.body, data, markdown_values=False)  # plain text
        except InvalidData:
            text = reply.body
        offered.append((reply, text))
    return offered


def _checked(form) -> tuple[dict, dict]:
    """The reply's fields from the form, and the errors by field."""
    name = (form.get("name") or "").strip()
    body = (form.get("body") or "").replace("\r\n", "\n").strip()
    team_key = (form.get("team_key") or "").strip() or None
    errors = {}
    if not name:
        errors["name"] = "Give the reply a name."
    elif len(name) > CANNED_NAME_MAX:
        errors["name"] = f"A name is at most {CANNED_NAME_MAX} characters long."
    if not body:
        errors["body"] = "Write the reply's text."
    elif len(body) > CANNED_BODY_MAX:
        errors["body"] = f"A reply is at most {CANNED_BODY_MAX} characters long."
    else:
        try:
            problem = preview_instructions(body, SAMPLE)[1]
        except InvalidData as exc:
            problem = next(iter(exc.errors.values()))
        if problem:
            errors["body"] = f"The placeholders cannot be used: {problem}."
    scope = scope_of(_user())
    teams = editable_teams(_user(), scope)
    if teams is not None and team_key not in teams:
        errors["team_key"] = "Choose one of the teams you lead."
    elif (
        team_key is not None
        and db.session.execute(db.select(Team.id).where(Team.key == team_key)).scalar() is None
    ):
        errors["team_key"] = f"There is no team '{team_key}'."
    return {"name": name, "body": body, "team_key": team_key}, errors


def _page(
    values: dict | None = None, errors: dict | None = None, editing: int | None = None, status: int = 200
):
    user = _user()
    scope = scope_of(user)
    replies = db.session.execute(db.select(CannedReply).order_by(CannedReply.name)).scalars().all()
    teams = editable_teams(user, scope)
    team_choices = (
        list(db.session.execute(db.select(Team.key).order_by(Team.key)).scalars()) if teams is None else teams
    )
    return render_template(
        "inbox/replies.html",
        replies=[r for r in replies if scope.sees_all or r.team_key is None or r.team_key in scope.team_keys],
        editable={r.id for r in replies if may_edit(user, scope, r)},
        may_create=may_edit(user, scope),
        team_choices=team_choices,
        shared_allowed=teams is None,
        values=values or {},
        errors=errors or {},
        editing=editing,
        placeholders=PLACEHOLDERS,
        name_max=CANNED_NAME_MAX,
        body_max=CANNED_BODY_MAX,
    ), status


@bp.get("/replies")
@roles_required(*STAFF)
def replies():
    """List the canned replies; admins and team leads add and change them here."""
    return _page()


def _name_taken(name: str, reply_id: int | None = None) -> bool:
    query = db.select(CannedReply.id).where(CannedReply.name == name)
    if reply_id is not None:
        query = query.where(CannedReply.id != reply_id)
    return db.session.execute(query).scalar() is not None


@bp.post("/replies")
@roles_required(*STAFF)
def create_reply():
    """Add a canned reply (admins: for any team or all; team leads: for a team they lead)."""
    if not may_edit(_user(), scope_of(_user())):
        abort(404)
    values, errors = _checked(request.form)
    if not errors and _name_taken(values["name"]):
        errors["name"] = "A reply with this name exists already."
    if errors:
        return _page(values, errors, status=422)
    with write_transaction():
        db.session.add(CannedReply(**values, created_by_id=_user().id))
    flash(f"Canned reply “{values['name']}” added.", "success")
    return redirect(url_for("inbox.replies"))


def _own_reply(reply_id: int) -> CannedReply:
    reply = db.session.get(CannedReply, reply_id)
    if reply is None or not may_edit(_user(), scope_of(_user()), reply):
        abort(404)
    return reply


@bp.post("/replies/<int:reply_id>")
@roles_required(*STAFF)
def update_reply(reply_id: int):
    """Change a canned reply's name, text or team."""
    reply = _own_reply(reply_id)
    values, errors = _checked(request.form)
    if not errors and _name_taken(values["name"], reply.id):
        errors["name"] = "A reply with this name exists already."
    if errors:
        return _page(values, errors, editing=reply.id, status=422)
    with write_transaction():
        reply = db.session.get(CannedReply, reply_id)
        reply.name, reply.body, reply.team_key = values["name"], values["body"], values["team_key"]
        reply.updated_at = utcnow()
    flash(f"Canned reply “{values['name']}” saved.", "success")
    return redirect(url_for("inbox.replies"))


@bp.post("/replies/<int:reply_id>/delete")
@roles_required(*STAFF)
def delete_reply(reply_id: int):
    """Delete a canned reply."""
    name = _own_reply(reply_id).name
    with write_transaction():
        db.session.delete(db.session.get(CannedReply, reply_id))
    flash(f"Canned reply “{name}” deleted.", "success")
    return redirect(url_for("inbox.replies"))


@bp.app_template_global("canned_replies")
def _canned_replies(ticket: Ticket) -> list[tuple[CannedReply, str]]:
    return offered_replies(_user(), ticket)
