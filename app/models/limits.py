"""Approval limits: how much credit or refund a person may grant alone (four-eyes above it).

A row holds either a role's limit (`role`: agent, lead, manager, admin; "lead" is anyone who leads
a team) or one user's limit (`user_id`), which overrides what their roles give them. Amounts are
Decimal in the customer's currency.
"""

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import UTCDateTime

# The roles a limit can be set for, in the order the admin page lists them.
LIMIT_ROLES = ("agent", "lead", "manager", "admin")


class ApprovalLimit(db.Model):
    __tablename__ = "approval_limit"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str | None] = mapped_column(String(16), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    updated_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("(role IS NULL) <> (user_id IS NULL)", name="ck_approval_limit_role_or_user"),
    )
