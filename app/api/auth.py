"""Bearer-token authentication for the API and the role check of each route.

A token authenticates while it is neither revoked nor expired and its user is active. Every
authenticated request gets `g.api_user` and `g.api_token_scopes` (a frozenset, empty when the
token has none). The token's `last_used_at` is written at most once per LAST_USED_EVERY, in its
own short write transaction, so the hot path stays one read.
"""

import functools
import logging
from datetime import timedelta

from flask import abort, g, request
from sqlalchemy import bindparam, or_
from sqlalchemy.exc import OperationalError

from app.accounts import hash_token
from app.clock import utcnow
from app.errors import json_error
from app.extensions import db
from app.models import ApiToken, Customer, User
from app.transactions import only_read, write_transaction

log = logging.getLogger(__name__)
LAST_USED_EVERY = timedelta(minutes=1)


def _token_from_header() -> tuple[User, ApiToken] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    now = utcnow()
    row = db.session.execute(_token_query(), {"token_hash": hash_token(token.strip()), "now": now}).first()
    if row is None:
        return None
    user, api_token = row
    if api_token.last_used_at is None or api_token.last_used_at <= now - LAST_USED_EVERY:
        _mark_used(api_token.id, now)
    return user, api_token


@functools.cache
def _token_query():
    """One query: the live token and its user, if the user is active. Built once: building it
    cost more than running it, on every API request."""
    return (
        db.select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now")),
            User.active.is_(True),
        )
    )


def _mark_used(token_id: int, now) -> None:
    """Record when the token was last used; skipped (never an error) while the database is busy."""
    try:
        with write_transaction():
            db.session.execute(db.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    except OperationalError as exc:
        log.info("token %s: last use not recorded (%s)", token_id, exc.orig)


def token_required(*roles: str):
    """Require a valid bearer token, and one of `roles` when given."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            found = _token_from_header()
            if found is None:
                return json_error(401, "a valid 'Authorization: Bearer <token>' header is required")
            user, api_token = found
            if roles and user.role not in roles:
                return json_error(403, f"this needs one of the roles: {', '.join(roles)}")
            g.api_user = user
            g.api_token_scopes = frozenset(api_token.scopes.split())
            only_read()  # the view's command may go on in this transaction (PostgreSQL)
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
