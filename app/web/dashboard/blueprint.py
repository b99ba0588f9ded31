"""The `dashboard` blueprint `bp`, in a module of its own so views can import it without a cycle."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
