"""E-mail in: every message the mail gateway took, once per Message-ID, and the mails held for review.

A row records what became of a message (`outcome`): delivered to a waiting process, added to a
ticket's conversation and flagged, a ticket opened, held for an admin (unknown sender, with
MAIL_UNKNOWN_SENDERS=hold), or dropped (an auto-reply or a bounce). Its unique `message_id`
makes a message delivered twice count once. Only a held message keeps its bytes (`raw`), until
an admin opens it as a ticket or discards it.
"""

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import UTCDateTime

INBOUND_OUTCOMES = ("delivered", "flagged", "opened", "held", "dropped", "discarded")
MESSAGE_ID_MAX = 300


class InboundMail(db.Model):
    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_MAX), unique=True)
    sender: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(300))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    size: Mapped[int] = mapped_column(default=0)
    received_at = mapped_column(UTCDateTime, default=utcnow)
    # The message as received, kept only while it is held (deferred: the list never reads it).
    raw: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    __table_args__ = (Index("ix_inbound_mail_outcome_id", "outcome", "id"),)  # the held list, newest first
