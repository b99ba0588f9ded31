"""The satisfaction survey: customers follow the signed link from the e-mail, without signing in."""

from app.web.survey import routes  # noqa: F401  (views register on bp)
from app.web.survey.blueprint import bp

__all__ = ["bp"]
