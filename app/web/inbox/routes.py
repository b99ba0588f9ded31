"""Inbox pages (being built)."""

from flask import Blueprint, render_template

from app.web.access import STAFF, roles_required

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


@bp.get("/")
@roles_required(*STAFF)
def index():
    """List the tasks of the signed-in agent and their teams."""
    return render_template("inbox/index.html")
