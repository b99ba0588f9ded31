"""Who may use the dashboard: managers and admins see every ticket, team leads their teams'."""

import functools

from flask import abort
from flask_login import current_user, login_required

from app.access import Scope, scope_of


def may_use_dashboard(scope: Scope, role: str) -> bool:
    """Managers and admins, and agents who lead a team."""
    return role in ("manager", "admin") or bool(scope.lead_keys)


def dashboard_required(view):
    """Signed in as a manager, an admin or a team lead; anyone else gets a 404.

    The view receives the caller's `Scope` as the keyword `scope`: what its queries may show.
    """

    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role == "customer":
            abort(404)
        scope = scope_of(current_user)
        if not may_use_dashboard(scope, current_user.role):
            abort(404)
        return view(*args, scope=scope, **kwargs)

    return wrapped
