"""Demo data for `make run`: teams, agents, customers with profiles, an admin, canned replies. Idempotent."""

from decimal import Decimal

from app.accounts import create_user
from app.extensions import db
from app.models import ApprovalLimit, CannedReply, Customer, Team, User
from app.sla.demo import seed_sla_demo
from app.transactions import write_transaction

TEAMS = [
    ("returns", "Returns", "round_robin"),
    ("credit", "Credit", "least_loaded"),
    ("support", "Support", "round_robin"),
    ("customer-success", "Customer success", "skills"),
    ("billing", "Billing", "round_robin"),
]
STAFF_ACCOUNTS = [  # username, role, teams, lead, skills
    ("admin", "admin", (), False, ""),
    ("ana", "analyst", (), False, ""),
    ("max", "manager", (), False, ""),
    ("alice", "agent", ("returns",), True, "returns,refunds"),
    ("bob", "agent", ("returns",), False, "returns"),
    ("carol", "agent", ("credit",), True, "credit,risk"),
    ("dave", "agent", ("support",), True, "general,complaints"),
    ("erin", "agent", ("customer-success",), True, "complaints,retention,success"),
    ("frank", "agent", ("support", "customer-success", "billing"), False, "complaints,billing"),
]
CUSTOMERS = [  # username, name, tier, tenure, orders, on-time ratio, open balance
    ("jane", "Jane Doe", "gold", 40, 85, 0.98, 0.0),
    ("omar", "Omar Haddad", "silver", 18, 30, 0.92, 120.0),
    ("lena", "Lena Fischer", "standard", 3, 4, 0.75, 480.0),
    ("kofi", "Kofi Mensah", "platinum", 72, 210, 1.0, 0.0),
    ("mei", "Mei Tanaka", "standard", 9, 12, 0.88, 60.0),
]
DEMO_PASSWORD = "ticketflow"
CANNED_REPLIES = [  # name, team (None: every team), text with placeholders
    (
        "Looking into it",
        None,
        "Dear {{ customer.name }},\n\nthank you for your message about {{ ticket.reference }}. We are looking into it and will get back "
        "to you within one business day.",
    ),
    (
        "Return label on its way",
        "returns",
        "Dear {{ customer.name }},\n\nwe have sent the return label for {{ ticket.reference }} to your e-mail address. Please write the "
        "ticket number on the parcel.",
    ),
]
# Customers whose amounts are not in DEFAULT_CURRENCY.
CUSTOMER_CURRENCIES = {"kofi": "GBP"}
# What each role may approve alone (four eyes above it); "lead" is anyone who leads a team.
APPROVAL_LIMITS = {"agent": Decimal("1000.00"), "lead": Decimal("10000.00"), "manager": Decimal("50000.00")}


def seed_demo() -> int:
    """Create what is missing in one write transaction; returns the number of rows added."""
    with write_transaction():
        added = 0
        for key, name, strategy in TEAMS:
            if db.session.execute(db.select(Team).where(Team.key == key)).scalar() is None:
                db.session.add(Team(key=key, name=name, strategy=strategy))
                added += 1
        db.session.flush()
        for username, role, teams, lead, skills in STAFF_ACCOUNTS:
            if _missing(username):
                create_user(username, role, password=DEMO_PASSWORD, teams=teams, lead=lead, skills=skills)
                added += 1
        for username, name, tier, tenure, orders, ratio, balance in CUSTOMERS:
            if _missing(username):
                user = create_user(username, "customer", name=name, password=DEMO_PASSWORD)
                db.session.flush()
                customer = db.session.execute(
                    db.select(Customer).where(Customer.user_id == user.id)
                ).scalar_one()
                customer.tier, customer.tenure_months, customer.order_count = tier, tenure, orders
                customer.on_time_payment_ratio, customer.open_balance = ratio, balance
                customer.currency = CUSTOMER_CURRENCIES.get(username, customer.currency)
                added += 1
        have = set(
            db.session.execute(db.select(ApprovalLimit.role).where(ApprovalLimit.role.is_not(None))).scalars()
        )
        for role, amount in APPROVAL_LIMITS.items():
            if role not in have:
                db.session.add(ApprovalLimit(role=role, amount=amount))
                added += 1
        for name, team_key, body in CANNED_REPLIES:
            if db.session.execute(db.select(CannedReply.id).where(CannedReply.name == name)).scalar() is None:
                db.session.add(CannedReply(name=name, team_key=team_key, body=body))
                added += 1
        added += seed_sla_demo()  # team calendars and SLA targets
    return added


def _missing(username: str) -> bool:
    return db.session.execute(db.select(User.id).where(User.username == username)).scalar() is None
