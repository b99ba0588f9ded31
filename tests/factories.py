"""Factories for test rows: teams, agents, customers, tokens, deployed diagrams."""

from decimal import Decimal
from pathlib import Path

from app.accounts import new_token
from app.engine import deploy
from app.extensions import db
from app.models import ApprovalLimit, Attachment, Customer, Team, TeamMember, User
from app.passwords import hash_password

ROOT = Path(__file__).resolve().parent.parent
TEAMS = ("returns", "credit", "support", "customer-success", "billing")


def make_team(key: str, strategy: str = "round_robin") -> Team:
    team = db.session.execute(db.select(Team).where(Team.key == key)).scalar()
    if team is None:
        team = Team(key=key, name=key.title(), strategy=strategy)
        db.session.add(team)
        db.session.flush()
    return team


def make_user(
    username: str,
    role: str = "agent",
    teams: tuple[str, ...] = (),
    lead: bool = False,
    password: str | None = None,
    skills: str = "",
    capacity: int = 20,
) -> User:
    user = User(
        username=username,
        name=username.title(),
        email=f"{username}@example.com",
        role=role,
        skills=skills,
        capacity=capacity,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    for key in teams:
        db.session.add(TeamMember(team_id=make_team(key).id, user_id=user.id, is_lead=lead))
    db.session.commit()
    return user


def set_limits(by_role: dict[str, float] | None = None, by_user: dict[User, float] | None = None) -> None:
    """Approval limits (four eyes) per role ("agent", "lead", ...) and per user, as the admin page sets them."""
    for role, amount in (by_role or {}).items():
        db.session.add(ApprovalLimit(role=role, amount=Decimal(str(amount))))
    for user, amount in (by_user or {}).items():
        db.session.add(ApprovalLimit(user_id=user.id, amount=Decimal(str(amount))))
    db.session.commit()


def make_customer(
    name: str = "Jane Doe",
    tier: str = "gold",
    tenure_months: int = 40,
    order_count: int = 85,
    on_time_payment_ratio: float = 0.98,
    open_balance: float = 0.0,
    user: User | None = None,
) -> Customer:
    customer = Customer(
        name=name,
        email=f"{name.split()[0].lower()}@example.com",
        tier=tier,
        user_id=user.id if user else None,
        tenure_months=tenure_months,
        order_count=order_count,
        on_time_payment_ratio=on_time_payment_ratio,
        open_balance=open_balance,
    )
    db.session.add(customer)
    db.session.commit()
    return customer


def token_for(user: User) -> str:
    token = new_token(user)
    db.session.commit()
    return token


def deploy_shipped(*keys: str):
    """Deploy processes/<key>.bpmn for each key (all four ticket types when none given)."""
    keys = keys or ("return", "credit", "general", "complaint")
    return [deploy((ROOT / "processes" / f"{key}.bpmn").read_bytes(), actor="test")[0] for key in keys]


def make_customer_user(
    username: str = "jane", password: str | None = "pw", **profile
) -> tuple[User, Customer]:
    """A customer who can sign in to the portal, with a profile."""
    user = make_user(username, "customer", password=password)
    return user, make_customer(name=profile.pop("name", f"{username.title()} Doe"), user=user, **profile)


def login(client, username: str, password: str = "pw"):
    """Sign in through the real form (with its CSRF token); returns the response."""
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


# Values for the path parts of routes that name no object (file names, keys, versions, survey
# tokens): the URL-map tests fill them in beside the ids they make.
PATH_VALUES = {
    "ticket_type": "return",
    "token": "x",
    "filename": "app.css",
    "name": "return_start.json",
    "key": "return",
    "version": 1,
    "decision_id": "priority",
    "webhook_id": 1,
    "delivery_id": 1,
    "batch_id": 1,  # a migration batch (none exists: shared, only the anonymous visitor is refused)
}


def add_photo(ticket_id: int, uploaded_by_id: int, data: bytes = b"jpg") -> Attachment:
    """A photo attached to a ticket, added to the session (the caller commits)."""
    attachment = Attachment(
        ticket_id=ticket_id,
        filename="photo.jpg",
        content_type="image/jpeg",
        size=len(data),
        data=data,
        uploaded_by_id=uploaded_by_id,
    )
    db.session.add(attachment)
    return attachment
