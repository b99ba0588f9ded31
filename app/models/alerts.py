"""Alerts for managers: thresholds per ticket type and team, and each time one fired; and the
ticket indexes their figures and /metrics count with."""

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.ticket import Ticket
from app.models.types import UTCDateTime

# metric -> (what is compared, how it fires): below the threshold, or above it.
ALERT_METRICS = {
    "sla_attainment": ("SLA attainment (%)", "below"),
    "backlog": ("backlog (open tickets)", "above"),
    "csat": ("CSAT (average rating 1-5)", "below"),
}


class AlertRule(db.Model):
    """A threshold on one figure for a ticket type and a team (None: every type, every team)."""

    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(32))  # a key of ALERT_METRICS
    ticket_type: Mapped[str | None] = mapped_column(String(64))
    team_key: Mapped[str | None] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column()
    window_days: Mapped[int] = mapped_column(default=7)  # the period SLA attainment and CSAT look at
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # The figure at the worker's last evaluation (None: no data, or not evaluated yet): the page
    # shows it instead of counting again.
    last_value: Mapped[float | None] = mapped_column()
    evaluated_at = mapped_column(UTCDateTime)


class AlertEvent(db.Model):
    """One firing of a rule: the value seen, the threshold then, when it fired and when it ended.

    A rule fires again only after its last event is resolved. The event keeps its own copy of
    what the rule said, so the list stays true after a rule is edited or deleted.
    """

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rule.id", ondelete="SET NULL"))
    metric: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300))
    value: Mapped[float] = mapped_column()
    threshold: Mapped[float] = mapped_column()
    fired_at = mapped_column(UTCDateTime, default=utcnow)
    resolved_at = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_alert_event_rule_resolved", "rule_id", "resolved_at"),
        Index("ix_alert_event_fired_at", "fired_at"),
    )


# SLA breaches by type without reading every ticket (/metrics, app/metrics/collector.py): finished
# late (`sla_met` false), and open with a running clock past its due time.
Index("ix_ticket_sla_met_type", Ticket.sla_met, Ticket.type)
Index("ix_ticket_sla_clock_due", Ticket.sla_running_since, Ticket.sla_due_at, Ticket.type, Ticket.sla_met)
