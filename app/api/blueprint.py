"""The API blueprint `bp` (/api/v1), in a module of its own so routes can import it without a cycle."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
