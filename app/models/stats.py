"""Pre-aggregated figures for the dashboard, kept up to date by the engine in each command's transaction.

`app/stats/record.py` writes them from the command's history rows (one upsert per table);
`app/stats/kpis.py` and `app/stats/elements.py` read them, so no dashboard figure scans the
history. `team` is '' for "no team" (part of primary keys, so never NULL).
"""

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class TicketStat(db.Model):
    """One row per ticket: what its later events need to know (team, when it opened, first response...)."""

    __tablename__ = "ticket_stat"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64), default="")
    opened_at = mapped_column(UTCDateTime, nullable=False)
    is_open: Mapped[bool] = mapped_column(default=True)
    first_response_at = mapped_column(UTCDateTime)
    resolved_at = mapped_column(UTCDateTime)  # the latest resolution; None while open
    resolution_seconds: Mapped[int | None] = mapped_column()  # business seconds opening -> resolution
    resolved_status: Mapped[str | None] = mapped_column(String(32))
    sla_met: Mapped[bool | None] = mapped_column()  # outcome counted with the latest resolution
    one_touch: Mapped[bool] = mapped_column(default=False)  # counted one-touch at the latest resolution
    touches: Mapped[int] = mapped_column(default=0)
    handoffs: Mapped[int] = mapped_column(default=0)
    reopens: Mapped[int] = mapped_column(default=0)
    escalated: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_ticket_stat_open", "is_open", "type", "team", "opened_at"),
        # A ticket's type and team from the index alone (the KPI page's tests of each open task
        # and backlog breach against a type and team: no visit of the table's row).
        Index("ix_ticket_stat_ticket_type_team", "ticket_id", "type", "team"),
    )


class DailyStat(db.Model):
    """Counts per UTC day, ticket type and team (the team of the ticket's SLA policy)."""

    __tablename__ = "daily_stat"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    opened: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    cancelled: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[int] = mapped_column(default=0)
    escalated: Mapped[int] = mapped_column(default=0)
    handoffs: Mapped[int] = mapped_column(default=0)
    one_touch: Mapped[int] = mapped_column(default=0)
    sla_met: Mapped[int] = mapped_column(default=0)
    sla_breached: Mapped[int] = mapped_column(default=0)
    first_responses: Mapped[int] = mapped_column(default=0)
    first_response_met: Mapped[int] = mapped_column(default=0)
    feedback: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_1: Mapped[int] = mapped_column(default=0)
    rating_2: Mapped[int] = mapped_column(default=0)
    rating_3: Mapped[int] = mapped_column(default=0)
    rating_4: Mapped[int] = mapped_column(default=0)
    rating_5: Mapped[int] = mapped_column(default=0)
    follow_ups: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_daily_stat_type_team_day", "type", "team", "day"),)


class DurationStat(db.Model):
    """A histogram of durations (business seconds) per day, type, team and metric, in log buckets."""

    __tablename__ = "duration_stat"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)  # first_response | resolution
    bucket: Mapped[int] = mapped_column(primary_key=True)  # app/stats/buckets.py
    count: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)


class ElementStat(db.Model):
    """Per BPMN element of a process version, UTC day and duration bucket (app/stats/buckets.py).

    Completions count in the bucket of the time they spent (with its sum), those without a time
    (history written before it was recorded) in bucket -2; cancellations and incidents in bucket
    -1. One upsert per command covers them all.
    """

    __tablename__ = "element_stat"

    process_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    element_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    completed: Mapped[int] = mapped_column(default=0)
    cancelled: Mapped[int] = mapped_column(default=0)
    incidents: Mapped[int] = mapped_column(default=0)
    duration_sum: Mapped[int] = mapped_column(default=0)  # seconds spent by the completed ones

    __table_args__ = (Index("ix_element_stat_key_version_day", "process_key", "version", "day"),)


class TicketCount(db.Model):
    """How many tickets have each type, SLA team, priority, status, SLA miss and process version
    (definition): kept up to date
    by `app/stats/counts.py` in the transaction that creates or changes a ticket; the ticket list's
    counts and /metrics read it instead of counting a million rows. '' (0) stands for NULL."""

    __tablename__ = "ticket_count"

    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    team: Mapped[str] = mapped_column(String(64), primary_key=True)  # ticket.sla_team_key
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    missed: Mapped[bool] = mapped_column(primary_key=True)  # ticket.sla_met is False
    definition_id: Mapped[int] = mapped_column(primary_key=True)  # ticket.definition_id, 0 for none
    n: Mapped[int] = mapped_column(default=0)
