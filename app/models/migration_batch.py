"""Bulk migration: a batch of running tickets moved to another version of their type by the worker.

A batch lists its tickets as items. An item is `pending` until the worker has tried it, then
`moved`, `failed` (it cannot move: the reason names the element) or `skipped` (no longer running
on the source version). While its batch is open an item holds its ticket in `claim` (a unique
column: NULLs do not collide), so the database itself refuses a second open batch on the same
ticket; closing the batch clears the claims.
"""

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import JSONType, UTCDateTime

BATCH_STATES = ("queued", "running", "done")
ITEM_STATES = ("pending", "moved", "failed", "skipped")


class MigrationBatch(db.Model):
    """One bulk migration: what moves where, its progress counts (updated per chunk) and its lease."""

    __tablename__ = "migration_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128))
    source_version: Mapped[int] = mapped_column()
    target_version: Mapped[int] = mapped_column()
    mapping = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    moved: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    finished_at = mapped_column(UTCDateTime)
    lease_until = mapped_column(UTCDateTime)  # a worker is on it until then (a crash lets it lapse)

    __table_args__ = (Index("ix_migration_batch_state_created", "state", "created_at"),)


class MigrationBatchItem(db.Model):
    """One ticket of a batch and what became of it."""

    __tablename__ = "migration_batch_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("migration_batch.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    # The ticket's id while the batch is open, NULL once it is done: one open batch per ticket.
    claim: Mapped[int | None] = mapped_column(unique=True)
    done_at = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_migration_batch_item_batch_state", "batch_id", "state", "id"),
        Index("ix_migration_batch_item_ticket", "ticket_id"),
    )
