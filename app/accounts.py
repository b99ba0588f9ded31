"""Creating people: a user with a role, their teams and (for a customer) a profile, and API tokens;
the caller commits.

Used by `flask users create` / `create-token`, the demo data (`seed.py`) and the API's token check.
"""

import hashlib
import secrets

import click

from app.extensions import db
from app.models import ROLES, ApiToken, Customer, Team, TeamMember, User
from app.passwords import hash_password


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


def new_token(user: User) -> str:
    """Create an API token for a user; only its hash is stored. The caller commits."""
    token = "tf_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    return token
