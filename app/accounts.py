"""People and their credentials: creating a user with a role, their teams and (for a customer) a
profile; API tokens (named, scoped, expiring, revocable); password changes, deactivation and
sign-out, which end sessions. The caller commits (inside `write_transaction()`).

Used by `flask users ...`, the admin pages, sign-out, the demo data (`seed.py`) and the API's
token check.
"""

import hashlib
import secrets
from datetime import timedelta

import click

from app.clock import utcnow
from app.extensions import db
from app.models import ROLES, ApiToken, Customer, Team, TeamMember, User
from app.passwords import hash_password

# What a token may be granted beyond its user's role. "messages": deliver messages to any ticket
# (an integration such as the mail gateway); see app/access.py.
TOKEN_SCOPES = ("messages",)


def create_user(
    username: str,
    role: str,
    *,
    name: str | None = None,
    email: str | None = None,
    password: str | None = None,
    teams: tuple[str, ...] = (),
    lead: bool = False,
    skills: str = "",
    capacity: int = 20,
) -> User:
    """Create a user (and a customer profile for a customer); the caller commits."""
    if role not in ROLES:
        raise click.BadParameter(f"role must be one of {', '.join(ROLES)}")
    if db.session.execute(db.select(User).where(User.username == username)).scalar():
        raise click.BadParameter(f"user '{username}' already exists")
    user = User(
        username=username,
        name=name or username.title(),
        email=email or f"{username}@example.com",
        role=role,
        skills=skills,
        capacity=capacity,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    for key in teams:
        team = db.session.execute(db.select(Team).where(Team.key == key)).scalar()
        if team is None:
            raise click.BadParameter(f"no team '{key}'")
        db.session.add(TeamMember(team_id=team.id, user_id=user.id, is_lead=lead))
    if role == "customer":
        db.session.add(Customer(user_id=user.id, name=user.name, email=user.email))
    return user


def hash_token(token: str) -> str:
    """What is stored of an API token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(
    user: User,
    *,
    name: str | None = None,
    expires_in_days: int | None = None,
    scopes: tuple[str, ...] = (),
) -> str:
    """Create an API token for a user and return it; only its hash is stored. The caller commits.

    Args:
        name: unique among the user's live tokens; "token-N" when not given.
        expires_in_days: the token is refused after this many days; never expires when None.
        scopes: extra rights from TOKEN_SCOPES.

    Raises:
        click.BadParameter: a name already in use, an unknown scope, a non-positive lifetime.
    """
    live = live_tokens(user)
    if name is None:
        number = len(tokens_of(user)) + 1
        while any(t.name == f"token-{number}" for t in live):
            number += 1
        name = f"token-{number}"
    name = name.strip()
    if not name or len(name) > 80:
        raise click.BadParameter("a token name has 1 to 80 characters")
    if any(t.name == name for t in live):
        raise click.BadParameter(f"'{user.username}' already has a token named '{name}'")
    unknown = sorted(set(scopes) - set(TOKEN_SCOPES))
    if unknown:
        raise click.BadParameter(f"unknown scope {', '.join(unknown)}; one of {', '.join(TOKEN_SCOPES)}")
    if expires_in_days is not None and not 0 < expires_in_days <= 3650:
        raise click.BadParameter("--expires-in is a number of days from 1 to 3650")
    now = utcnow()
    token = "tf_" + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            name=name,
            scopes=" ".join(sorted(set(scopes))),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
    )
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """All of a user's tokens, live or not, oldest first."""
    return list(
        db.session.execute(
            db.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        ).scalars()
    )


def live_tokens(user: User) -> list[ApiToken]:
    """The user's tokens that are neither revoked nor expired."""
    now = utcnow()
    return [
        t for t in tokens_of(user) if t.revoked_at is None and (t.expires_at is None or t.expires_at > now)
    ]


def revoke_token(user: User, id_or_name: str) -> ApiToken:
    """Revoke one live token of the user, named by its id or its name. The caller commits.

    Raises:
        click.BadParameter: the user has no such live token.
    """
    for token in live_tokens(user):
        if str(token.id) == id_or_name or token.name == id_or_name:
            token.revoked_at = utcnow()
            return token
    raise click.BadParameter(f"'{user.username}' has no live token '{id_or_name}'")


def end_sessions(user: User) -> None:
    """End every session the user has (each request compares the generation). The caller commits."""
    user.session_generation = (user.session_generation or 0) + 1


def set_password(user: User, password: str) -> None:
    """Change the password: every session ends and every API token is revoked. The caller commits."""
    user.password_hash = hash_password(password)
    _lock_out(user)


def deactivate(user: User) -> None:
    """Deactivate the user: every session ends and every API token is revoked. The caller commits."""
    user.active = False
    _lock_out(user)


def _lock_out(user: User) -> None:
    end_sessions(user)
    now = utcnow()
    db.session.execute(
        db.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
