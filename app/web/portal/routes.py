"""Portal pages (being built)."""

from flask import Blueprint, render_template

from app.web.access import roles_required

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.get("/")
@roles_required("customer")
def index():
    """List the signed-in customer's tickets."""
    return render_template("portal/index.html")


@bp.get("/new")
@roles_required("customer")
def new_ticket_types():
    """Choose the type of ticket to open."""
    return render_template("portal/index.html")
