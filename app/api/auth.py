"""Bearer-token authentication for the API and the role check of each route."""

import functools

from flask import abort, g, request

from app.accounts import hash_token
from app.errors import json_error
from app.extensions import db
from app.models import ApiToken, Customer, User


def _user_from_header() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    # One query: the token's user, if the token exists and the user is active.
    return db.session.execute(
        db.select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token.strip()), User.active.is_(True))
    ).scalar()


def token_required(*roles: str):
    """Require a valid bearer token, and one of `roles` when given."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = _user_from_header()
            if user is None:
                return json_error(401, "a valid 'Authorization: Bearer <token>' header is required")
            if roles and user.role not in roles:
                return json_error(403, f"this needs one of the roles: {', '.join(roles)}")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorate


def token_customer() -> Customer | None:
    """The customer a customer's token acts for (their own profile only); None for staff tokens."""
    if g.api_user.role != "customer":
        return None
    customer = db.session.execute(db.select(Customer).where(Customer.user_id == g.api_user.id)).scalar()
    if customer is None:
        abort(403, "this customer account has no customer profile")
    return customer
