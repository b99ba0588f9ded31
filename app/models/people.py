"""People: users with a role, teams of agents, customers with their profile, API tokens."""

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.config import default_currency
from app.extensions import db
from app.models import trigrams
from app.models.types import UTCDateTime

# Everyone who works tickets (all roles but customer), in the order role lists are written.
STAFF = ("agent", "analyst", "manager", "admin")
ROLES = ("customer", *STAFF)


class Team(db.Model):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # round_robin | least_loaded | skills
    strategy: Mapped[str] = mapped_column(String(32), default="round_robin")
    members: Mapped[list["TeamMember"]] = relationship(back_populates="team")


class User(db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    skills: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int] = mapped_column(default=20)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped by sign-out, a password change and deactivation: every session made before ends.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # Pages show times in this IANA zone ("Europe/Berlin"); None: the configured DEFAULT_TIMEZONE.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # When the person last looked at their inbox: tasks that arrived after it are "new".
    inbox_seen_at = mapped_column(UTCDateTime)
    # Whether the person is e-mailed when a task is assigned to them and when a customer writes on
    # their ticket (escalations to team leads are always sent); set on /account/settings.
    mail_notifications: Mapped[bool] = mapped_column(default=False, server_default=false())
    memberships: Mapped[list["TeamMember"]] = relationship(back_populates="user")

    @property
    def team_keys(self) -> list[str]:
        return [m.team.key for m in self.memberships]

    @property
    def leads_a_team(self) -> bool:
        return any(m.is_lead for m in self.memberships)

    def leads(self, team_key: str) -> bool:
        return any(m.is_lead and m.team.key == team_key for m in self.memberships)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The session stores the generation it was made in; the user loader compares it on each
        # request, so bumping `session_generation` ends every session made before.
        return f"{self.id}:{self.session_generation}"


class TeamMember(db.Model):
    __tablename__ = "team_member"

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    is_lead: Mapped[bool] = mapped_column(default=False)
    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored. Expired or revoked tokens are refused (401).

    `scopes` is a space-separated list of what an integration may do beyond its user's role
    (app/accounts.py TOKEN_SCOPES); `last_used_at` is written at most once a minute per token.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80), server_default="token")
    scopes: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    expires_at = mapped_column(UTCDateTime, nullable=True)
    last_used_at = mapped_column(UTCDateTime, nullable=True)
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    user: Mapped[User] = relationship()


class Customer(db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(16), default="standard")
    tenure_months: Mapped[int] = mapped_column(default=0)
    order_count: Mapped[int] = mapped_column(default=0)
    on_time_payment_ratio: Mapped[float] = mapped_column(default=1.0)
    open_balance: Mapped[float] = mapped_column(default=0.0)
    # ISO 4217 code every amount of this customer is in (DEFAULT_CURRENCY when created).
    currency: Mapped[str] = mapped_column(String(3), default=default_currency, server_default="EUR")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # The onboarding's verdict (processes/onboarding.bpmn): "engaged" | "not_engaged", None before it;
    # and the last sign of engagement it recorded (a tracked link opened, a portal visit).
    engagement: Mapped[str | None] = mapped_column(String(16))
    last_engaged_at = mapped_column(UTCDateTime, nullable=True)

    def profile(self) -> dict:
        """The customer as process data sees it."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "tier": self.tier,
            "tenure_months": self.tenure_months,
            "order_count": self.order_count,
            "on_time_payment_ratio": self.on_time_payment_ratio,
            "open_balance": self.open_balance,
            "currency": self.currency or default_currency(),
            "engagement": self.engagement or "",
        }


Index("ix_customer_email", Customer.email)
# Staff search finds customers by the start of their name or e-mail in any case: an index on the
# lower-case value, with PostgreSQL's pattern operators so `LIKE 'abc%'` reads a range of it.
Index(
    "ix_customer_name_lower",
    func.lower(Customer.name).label("name_lower"),
    postgresql_ops={"name_lower": "text_pattern_ops"},
)
# The inbox's customer filter matches a text anywhere in the name: a trigram index on PostgreSQL.
trigrams.name_index(Customer.name)
Index(
    "ix_customer_email_lower",
    func.lower(Customer.email).label("email_lower"),
    postgresql_ops={"email_lower": "text_pattern_ops"},
)


class SavedFilter(db.Model):
    """A named set of inbox filters (the inbox's query string) one person keeps in their sidebar."""

    __tablename__ = "saved_filter"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(500))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_filter_user_name"),)


class LoginAttempt(db.Model):
    """A failed sign-in, for throttling by (username, address) and, more gently, by address."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_remote_addr_at", "remote_addr", "at"),
    )
