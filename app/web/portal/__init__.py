"""The customer portal: open tickets, follow them, answer questions."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from app.web.portal import routes  # noqa: E402,F401  (views register on bp)
