"""Administration: users and teams."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.web.admin import routes  # noqa: E402,F401  (views register on bp)
