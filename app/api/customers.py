"""Customers with their profile."""

from flask import jsonify

from app.api.auth import token_required
from app.api.blueprint import bp
from app.extensions import db
from app.models import STAFF, Customer


@bp.get("/customers")
@token_required(*STAFF)
def list_customers():
    """All customers with their profile (tier, tenure, orders, payments, open balance)."""
    customers = db.session.execute(db.select(Customer).order_by(Customer.id)).scalars()
    return jsonify({"customers": [c.profile() for c in customers]})
