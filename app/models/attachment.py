"""File attachments uploaded with a form (task forms, the portal's start forms), stored in the database."""

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import UTCDateTime

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


class Attachment(db.Model):
    """One uploaded file. `ticket_id` is empty until the upload is tied to a ticket."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120), default="application/octet-stream")
    size: Mapped[int]
    # Deferred: listing attachments never reads their bytes.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    def as_value(self) -> dict:
        """The JSON a form field holds for this file."""
        return {"attachment_id": self.id, "filename": self.filename, "size": self.size}
