"""The agents' inbox: their tasks and their teams' tasks, the task page with its form."""

from flask import Blueprint

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

from app.web.inbox import routes  # noqa: E402,F401  (views register on bp)
