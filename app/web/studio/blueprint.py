"""The `studio` blueprint `bp`, in a module of its own so views can import it without a cycle."""

from flask import Blueprint

bp = Blueprint("studio", __name__, url_prefix="/studio")
