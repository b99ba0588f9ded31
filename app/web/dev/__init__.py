"""Development tools for admins (TICKETFLOW_ENV=development only; 404 otherwise): the caught mails."""

from app.web.dev import mail  # noqa: F401  (views register on bp)
from app.web.dev.blueprint import bp

__all__ = ["bp"]
