"""The `dev` blueprint `bp`, in a module of its own so views can import it without a cycle."""

from flask import Blueprint

bp = Blueprint("dev", __name__, url_prefix="/dev")
