"""Administration pages: users (role, teams, skills, capacity, password; a customer's currency) and
teams (strategy).

Each change is one write transaction; a new password or a deactivation ends the user's sessions
and revokes their API tokens (app/accounts.py). Deactivating someone who holds open tasks asks
where the tasks go (their teams' queues, or one named active agent); the engine command
`hand_over_tasks` moves them in the same transaction as the deactivation.
"""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from app.access import roles_required
from app.accounts import deactivate, set_password
from app.config import default_currency
from app.engine import InvalidData, hand_over_tasks
from app.extensions import db
from app.inputs import ascii_int
from app.models import ROLES, Customer, HumanTask, Team, TeamMember, User
from app.passwords import hash_password
from app.transactions import write_transaction
from app.web.admin.blueprint import bp

STRATEGIES = ("round_robin", "least_loaded", "skills")
CURRENCY_CODE = re.compile(r"[A-Z]{3}")  # ISO 4217's alphabetic codes


def _user_errors(form, creating: bool) -> dict:
    errors = {}
    username = form.get("username", "").strip()
    if creating:
        if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            errors["username"] = "letters, digits, '-', '_' and '.' only"
        elif db.session.execute(db.select(User.id).where(User.username == username)).scalar():
            errors["username"] = f"'{username}' is already taken"
    if not form.get("name", "").strip():
        errors["name"] = "a name is required"
    if form.get("role") not in ROLES:
        errors["role"] = f"one of {', '.join(ROLES)}"
    for field, most in (("username", 80), ("name", 200), ("email", 200), ("skills", 500)):
        if len(form.get(field, "").strip()) > most:  # the column's size
            errors[field] = f"at most {most} characters"
    capacity = form.get("capacity", "20").strip()
    if not 0 < (ascii_int(capacity) or 0) <= 500:
        errors["capacity"] = "a whole number from 1 to 500"
    if form.get("role") == "customer" and not CURRENCY_CODE.fullmatch(_currency(form)):
        errors["currency"] = "three letters of an ISO 4217 code, e.g. EUR"
    password = form.get("password", "")
    if (creating or password) and len(password) < 8:
        errors["password"] = "at least 8 characters"
    return errors


def _currency(form) -> str:
    """The currency typed for a customer, upper-cased (DEFAULT_CURRENCY when left empty)."""
    return form.get("currency", "").strip().upper() or default_currency()


def _customer_of(user: User) -> Customer | None:
    return db.session.execute(db.select(Customer).where(Customer.user_id == user.id)).scalar()


def _apply_user(user: User, form) -> None:
    user.name = form["name"].strip()
    user.email = form.get("email", "").strip() or None
    user.role = form["role"]
    user.skills = ",".join(s.strip() for s in form.get("skills", "").split(",") if s.strip())
    user.capacity = int(form.get("capacity", "20"))
    user.mail_notifications = form.get("mail_notifications") == "on"
    if form.get("active") != "on" and user.active:
        deactivate(user)
    else:
        user.active = form.get("active") == "on"
    if form.get("password"):
        if user.password_hash is None:  # a new user, or one who never had a password
            user.password_hash = hash_password(form["password"])
        else:
            set_password(user, form["password"])
    wanted = set(form.getlist("teams"))
    leads = set(form.getlist("lead"))
    for membership in list(user.memberships):
        if membership.team.key not in wanted:
            db.session.delete(membership)
        else:
            membership.is_lead = membership.team.key in leads
    have = {m.team.key for m in user.memberships}
    for team in db.session.execute(db.select(Team).where(Team.key.in_(wanted - have))).scalars():
        db.session.add(TeamMember(team_id=team.id, user_id=user.id, is_lead=team.key in leads))


def _teams():
    return db.session.execute(db.select(Team).order_by(Team.name)).scalars().all()


@bp.get("/users")
@roles_required("admin")
def users():
    """List users and teams."""
    rows = db.session.execute(db.select(User).order_by(User.role, User.username)).scalars().all()
    return render_template("admin/users.html", users=rows, teams=_teams(), strategies=STRATEGIES)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    """Create a user."""
    form = request.form
    if request.method == "POST":
        with write_transaction():
            errors = _user_errors(form, creating=True)
            if not errors:
                user = User(username=form["username"].strip(), name=form["name"].strip(), role=form["role"])
                db.session.add(user)
                db.session.flush()
                _apply_user(user, form)
                if user.role == "customer":
                    email = user.email or f"{user.username}@example.com"
                    db.session.add(
                        Customer(user_id=user.id, name=user.name, email=email, currency=_currency(form))
                    )
        if not errors:
            flash(f"User {user.username} created.", "success")
            return redirect(url_for("admin.users"))
        return render_template(
            "admin/user_form.html", user=None, form=form, errors=errors, teams=_teams(), roles=ROLES
        ), 422
    return render_template(
        "admin/user_form.html",
        user=None,
        form={"active": "on", "capacity": "20"},
        errors={},
        teams=_teams(),
        roles=ROLES,
    )


def open_task_count(user: User) -> int:
    """How many open tasks are assigned to `user`."""
    return db.session.execute(
        db.select(db.func.count(HumanTask.id)).where(HumanTask.assignee_id == user.id)
    ).scalar_one()


def _other_agents(user: User) -> list[User]:
    """The active staff who could take over `user`'s tasks."""
    return list(
        db.session.execute(
            db.select(User)
            .where(User.active.is_(True), User.role != "customer", User.id != user.id)
            .order_by(User.name)
        ).scalars()
    )


def _handover(user: User, form, errors: dict) -> User | None:
    """Who takes a leaving user's open tasks (None: their teams' queues); adds to `errors` when unclear."""
    count = open_task_count(user)
    if not count:
        return None
    choice = form.get("open_tasks")
    if choice == "queue":
        return None
    if choice != "reassign":
        errors["open_tasks"] = f"choose what happens to their {count} open task{'s' if count != 1 else ''}"
        return None
    found = ascii_int(form.get("reassign_to", ""))
    to = db.session.get(User, found) if found is not None else None
    if to is None or not to.active or to.role == "customer" or to.id == user.id:
        errors["reassign_to"] = "choose the active agent who takes the tasks"
    return to


def _user_page(user: User, form, errors: dict, status: int = 200):
    return render_template(
        "admin/user_form.html",
        user=user,
        form=form,
        errors=errors,
        teams=_teams(),
        roles=ROLES,
        member_of={m.team.key: m.is_lead for m in user.memberships},
        open_tasks=open_task_count(user) if user.active else 0,
        agents=_other_agents(user),
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):
    """Edit a user's role, teams, skills, capacity, password and whether they are active."""
    user = db.session.get(User, user_id) or abort(404)
    if request.method == "POST":
        form = request.form
        errors = _user_errors(form, creating=False)
        leaving = user.active and form.get("active") != "on"
        to = _handover(user, form, errors) if leaving else None
        if not errors and leaving:
            try:  # the deactivation and the handover of the open tasks commit together
                moved = hand_over_tasks(user, to, current_user.username, also=lambda: _apply_user(user, form))
            except InvalidData as exc:
                errors.update(exc.errors)
            else:
                where = f"to {to.name}" if to is not None else "back to their teams' queues"
                tasks = f"{len(moved)} open task{'s' if len(moved) != 1 else ''}"
                flash(f"User {user.username} deactivated; {tasks} went {where}.", "success")
                return redirect(url_for("admin.users"))
        elif not errors:
            with write_transaction():
                _apply_user(user, form)
                customer = _customer_of(user) if user.role == "customer" else None
                if customer is not None:
                    customer.currency = _currency(form)
            if user.id == current_user.id and user.active:
                login_user(user)  # an admin who changed their own password stays signed in here
            flash(f"User {user.username} saved.", "success")
            return redirect(url_for("admin.users"))
        return _user_page(user, form, errors, 422)
    form = {
        "name": user.name,
        "email": user.email or "",
        "role": user.role,
        "skills": user.skills,
        "capacity": str(user.capacity),
        "active": "on" if user.active else "",
        "mail_notifications": "on" if user.mail_notifications else "",
    }
    customer = _customer_of(user) if user.role == "customer" else None
    if customer is not None:
        form["currency"] = customer.currency or default_currency()
    return _user_page(user, form, {})


@bp.post("/teams")
@roles_required("admin")
def create_team():
    """Create a team."""
    key, name = request.form.get("key", "").strip(), request.form.get("name", "").strip()[:200]
    strategy = request.form.get("strategy", "round_robin")
    if not key.replace("-", "").isalnum() or not name or strategy not in STRATEGIES or len(key) > 64:
        flash("A team needs a key (letters, digits, '-'), a name and a strategy.", "error")
        return redirect(url_for("admin.users")), 303
    with write_transaction():
        taken = db.session.execute(db.select(Team.id).where(Team.key == key)).scalar()
        if not taken:
            db.session.add(Team(key=key, name=name, strategy=strategy))
    if taken:
        flash(f"A team '{key}' already exists.", "error")
        return redirect(url_for("admin.users")), 303
    flash(f"Team {name} created.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/teams/<int:team_id>")
@roles_required("admin")
def update_team(team_id: int):
    """Change a team's name or assignment strategy."""
    team = db.session.get(Team, team_id) or abort(404)
    strategy = request.form.get("strategy", team.strategy)
    if strategy not in STRATEGIES:
        flash(f"Unknown strategy '{strategy}'.", "error")
        return redirect(url_for("admin.users")), 303
    with write_transaction():
        team.strategy = strategy
        team.name = request.form.get("name", team.name).strip()[:200] or team.name
    flash(f"Team {team.name} saved.", "success")
    return redirect(url_for("admin.users"))
