"""Customer satisfaction: survey requests (single-use, expiring links) and the answers to them."""

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import UTCDateTime


class FeedbackRequest(db.Model):
    """One survey link sent to a ticket's customer; a reminder re-sends the same request.

    The link carries a signature of (id, nonce); the row decides whether it still works:
    `expires_at` in the past or `used_at` set closes it.
    """

    __tablename__ = "feedback_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime)


class Feedback(db.Model):
    """A customer's rating (1 to 5) and comment on a ticket; one per survey request."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    feedback_request_id: Mapped[int] = mapped_column(ForeignKey("feedback_request.id"), unique=True)
    rating: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)
