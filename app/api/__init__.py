"""The JSON REST API under /api/v1, with its OpenAPI document."""

from app.api import (  # noqa: F401  (routes register on bp)
    customers,
    definitions,
    incidents,
    instances,
    messages,
    migrations,
    openapi,
    statistics,
    tasks,
    tickets,
)
from app.api.blueprint import bp

__all__ = ["bp"]
