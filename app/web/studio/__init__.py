"""The studio: process analysts model, check, test and deploy ticket types in the browser."""

from app.web.studio import (  # noqa: F401  (views register on bp)
    api,
    decisions,
    migrations,
    pages,
    process_tests,
    tools,
    versions,
)
from app.web.studio.blueprint import bp

__all__ = ["bp"]
