"""The customer portal: open tickets, follow them, answer questions."""

from app.web.portal import routes  # noqa: F401  (views register on bp)
from app.web.portal.blueprint import bp

__all__ = ["bp"]
