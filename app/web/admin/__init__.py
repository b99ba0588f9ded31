"""Administration: users and teams, approval limits, the outbox, webhooks."""

from app.web.admin import held_mail, limits, outbox, routes, webhooks  # noqa: F401  (views register on bp)
from app.web.admin.blueprint import bp

__all__ = ["bp"]
