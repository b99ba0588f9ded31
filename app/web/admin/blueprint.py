"""The `admin` blueprint `bp`, in a module of its own so views can import it without a cycle."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
