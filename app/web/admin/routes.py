"""Admin pages (being built)."""

from flask import Blueprint, render_template

from app.web.access import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required("admin")
def users():
    """List users and teams."""
    return render_template("admin/users.html")
