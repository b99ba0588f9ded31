"""The agents' inbox: their tasks and their teams' tasks, the task page with its form."""

from app.web.inbox import conversation, listing, replies, routes  # noqa: F401  (views register on bp)
from app.web.inbox.blueprint import bp

__all__ = ["bp"]
