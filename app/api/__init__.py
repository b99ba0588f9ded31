"""The JSON REST API under /api/v1, with its OpenAPI document."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import (  # noqa: E402,F401  (routes register on bp)
    customers,
    definitions,
    incidents,
    messages,
    openapi,
    tasks,
    tickets,
)
