"""Administration of approval limits: what each role, and each person, may grant alone.

Above their limit a credit (and a refund above the order amount) waits for a second approver
(the four-eyes step in processes/credit.bpmn and return.bpmn; app/handlers/approval.py reads
these rows). Amounts are Decimal with at most two decimals; a blank role limit means 0 (every
amount needs a second approver); a blank personal limit removes the override.
"""

import re
from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for

from app.access import roles_required
from app.clock import utcnow
from app.extensions import db
from app.models import LIMIT_ROLES, ApprovalLimit, User
from app.transactions import write_transaction
from app.web.admin.blueprint import bp

AMOUNT = re.compile(r"^\d{1,10}(\.\d{1,2})?$")
MAX_LIMIT = Decimal("9999999999.99")  # what Numeric(12, 2) holds
ROLE_LABELS = {"agent": "Agents", "lead": "Team leads", "manager": "Managers", "admin": "Admins"}


def parse_amount(text: str) -> Decimal | None:
    """A limit as typed ("1000", "1000.50"): Decimal, or None when it is not one."""
    text = text.strip().replace(" ", "")
    if not AMOUNT.match(text):
        return None
    value = Decimal(text).quantize(Decimal("0.01"))
    return value if value <= MAX_LIMIT else None


AMOUNT_ERROR = "an amount of at most two decimals, e.g. 1000 or 1000.50"


def _staff():
    return (
        db.session.execute(
            db.select(User).where(User.role != "customer", User.active.is_(True)).order_by(User.username)
        )
        .scalars()
        .all()
    )


def _read_form(form, people: dict[int, User]) -> tuple[dict, dict, dict]:
    """(role limits, personal limits by user id, errors by field name) from the posted form."""
    errors, roles, personal = {}, {}, {}
    for role in LIMIT_ROLES:
        text = form.get(f"role-{role}", "").strip()
        if text:
            roles[role] = parse_amount(text)
            if roles[role] is None:
                errors[f"role-{role}"] = f"{ROLE_LABELS[role]}: {AMOUNT_ERROR}"
    for key in form:
        if key.startswith("user-"):
            user_id = key.removeprefix("user-")
            text = form.get(key, "").strip()
            if not user_id.isdigit() or int(user_id) not in people:
                errors[key] = "no such active staff member"
            elif text:
                personal[int(user_id)] = parse_amount(text)
                if personal[int(user_id)] is None:
                    errors[key] = f"{people[int(user_id)].username}: {AMOUNT_ERROR}"
    new_user, new_amount = form.get("new_user", "").strip(), form.get("new_amount", "").strip()
    if new_user or new_amount:
        if not new_user.isdigit() or int(new_user) not in people:
            errors["new_user"] = "choose an active staff member"
        elif int(new_user) in personal:
            errors["new_user"] = (
                f"{people[int(new_user)].username} has a personal limit already: change it above"
            )
        if parse_amount(new_amount) is None:
            errors["new_amount"] = f"Personal limit: {AMOUNT_ERROR}"
        if "new_user" not in errors and "new_amount" not in errors:
            personal[int(new_user)] = parse_amount(new_amount)
    return roles, personal, errors


def _save(roles: dict, personal: dict) -> None:
    rows = db.session.execute(db.select(ApprovalLimit)).scalars().all()
    now = utcnow()
    for row in rows:
        wanted = roles.get(row.role) if row.role else personal.get(row.user_id)
        if wanted is None:
            db.session.delete(row)
        elif row.amount != wanted:
            row.amount, row.updated_at = wanted, now
    have_roles = {r.role for r in rows if r.role}
    have_users = {r.user_id for r in rows if r.user_id}
    for role, amount in roles.items():
        if role not in have_roles:
            db.session.add(ApprovalLimit(role=role, amount=amount, updated_at=now))
    for user_id, amount in personal.items():
        if user_id not in have_users:
            db.session.add(ApprovalLimit(user_id=user_id, amount=amount, updated_at=now))


@bp.route("/approval-limits", methods=["GET", "POST"])
@roles_required("admin")
def approval_limits():
    """Show and change the approval limits per role and per person."""
    staff = _staff()
    people = {u.id: u for u in staff}
    if request.method == "POST":
        roles, personal, errors = _read_form(request.form, people)
        if errors:
            return _page(staff, request.form, errors), 422
        with write_transaction():
            _save(roles, personal)
        flash("Approval limits saved.", "success")
        return redirect(url_for("admin.approval_limits"))
    rows = db.session.execute(db.select(ApprovalLimit)).scalars().all()
    form = {f"role-{r.role}": f"{r.amount:.2f}" for r in rows if r.role}
    form |= {f"user-{r.user_id}": f"{r.amount:.2f}" for r in rows if r.user_id}
    return _page(staff, form, {})


def _page(staff: list[User], form, errors: dict):
    overrides = [u for u in staff if f"user-{u.id}" in form]
    return render_template(
        "admin/approval_limits.html",
        roles=[(role, ROLE_LABELS[role]) for role in LIMIT_ROLES],
        overrides=overrides,
        others=[u for u in staff if u not in overrides],
        form=form,
        errors=errors,
    )
