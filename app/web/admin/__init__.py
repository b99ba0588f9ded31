"""Administration: users and teams."""

from app.web.admin import held_mail, limits, outbox, routes  # noqa: F401  (views register on bp)
from app.web.admin.blueprint import bp

__all__ = ["bp"]
