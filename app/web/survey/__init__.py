"""The satisfaction survey: customers follow the signed link from the e-mail, without signing in."""

from flask import Blueprint

bp = Blueprint("survey", __name__, url_prefix="/survey")

from app.web.survey import routes  # noqa: E402,F401  (views register on bp)
