"""The studio's tables: drafts of ticket types (per analyst and type) and retired types."""

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import JSONType, UTCDateTime


class StudioDraft(db.Model):
    """One analyst's unsaved-to-production bundle of a type: {file name: text}. Never runs."""

    __tablename__ = "studio_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    files = mapped_column(JSONType, default=dict)
    # The deployed version the draft started from (None for a new type).
    base_version: Mapped[int | None]
    updated_at = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_studio_draft_user_key"),)


class ProcessType(db.Model):
    """What is known of a ticket type besides its versions: whether it is retired (no new tickets)."""

    __tablename__ = "process_type"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    retired_at = mapped_column(UTCDateTime, nullable=True)
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
