"""Canned replies: named texts with placeholders that agents insert when writing to a customer."""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import UTCDateTime

CANNED_NAME_MAX = 100
CANNED_BODY_MAX = 4000


class CannedReply(db.Model):
    """A reply text kept by admins and team leads; `team_key` None: for every team."""

    __tablename__ = "canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(CANNED_NAME_MAX), unique=True)
    body: Mapped[str] = mapped_column(Text)
    team_key: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at = mapped_column(UTCDateTime, default=utcnow)
