"""The studio: process analysts model, check, test and deploy ticket types in the browser."""

from app.web.studio import api, decisions, pages, process_tests, tools, versions  # noqa: F401  (views register on bp)
from app.web.studio.blueprint import bp

__all__ = ["bp"]
