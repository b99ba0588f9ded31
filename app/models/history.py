"""Append-only history: who did what, when, on which BPMN element. Never read by the engine."""

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.types import JSONType, UTCDateTime


class HistoryEvent(db.Model):
    __tablename__ = "history_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    at = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(32))
    element_id: Mapped[str | None] = mapped_column(String(128))
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    element_name: Mapped[str | None] = mapped_column(String(300))
    data = mapped_column(JSONType)
    # Rows that complete an element (element_completed, task_completed, service_completed, timer_fired,
    # message_delivered): whole seconds since it was entered (the heatmap's durations, app/stats).
    seconds: Mapped[int | None] = mapped_column()

    __table_args__ = (Index("ix_history_event_ticket_at", "ticket_id", "at"),)
