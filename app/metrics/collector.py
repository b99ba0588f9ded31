"""The figures read from the database at scrape time: a handful of aggregate queries, no state kept.

Tickets by type and status and the recorded SLA misses come from the pre-aggregated `ticket_count`
(kept up to date in each transaction that changes a ticket by app/stats/counts.py: a few hundred
rows, whatever the number of tickets); the rest is one index-only or small aggregate each: open
tickets past due now (ix_ticket_sla_clock_due), open tasks by team, jobs by status, open incidents
by kind, timers (waiting, due and the oldest due one's age) and alerts firing. Counters are counts
of rows kept in the database, so a restart of the server loses nothing.
"""

from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import case, func, or_, true

from app.clock import utcnow
from app.extensions import db
from app.models import AlertEvent, HumanTask, Incident, Job, Ticket, TicketCount, Timer
from app.sla import STOPPING

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # before every running clock: a range, not IS NOT NULL


class DatabaseCollector:
    """A prometheus_client custom collector over Ticketflow's tables (run inside an app context)."""

    def __init__(self, app=None):
        self.app = app

    def describe(self):
        """The series' names without touching the database (the registry asks at registration)."""
        return list(_families().values())

    def collect(self):
        families = _families()
        now = utcnow()
        _tickets(families, now)
        _tasks(families)
        _jobs(families)
        _incidents(families)
        _timers(families, now)
        _alerts(families)
        db.session.rollback()  # end the read transaction (SQLite keeps a snapshot otherwise)
        return list(families.values())


def _families() -> dict:
    return {
        "opened": CounterMetricFamily(
            "ticketflow_tickets_opened", "Tickets opened, by type.", labels=["type"]
        ),
        "closed": CounterMetricFamily(
            "ticketflow_tickets_closed",
            "Tickets finished (closed, resolved, rejected ...), by type.",
            labels=["type"],
        ),
        "cancelled": CounterMetricFamily(
            "ticketflow_tickets_cancelled", "Tickets cancelled, by type.", labels=["type"]
        ),
        "open": GaugeMetricFamily(
            "ticketflow_tickets_open", "Tickets not finished, by type.", labels=["type"]
        ),
        "breaches": CounterMetricFamily(
            "ticketflow_sla_breaches",
            "Tickets whose resolution SLA was breached (finished late or still open past due), by type.",
            labels=["type"],
        ),
        "breached_open": GaugeMetricFamily(
            "ticketflow_sla_breached_open", "Open tickets past their SLA now, by type.", labels=["type"]
        ),
        "tasks": GaugeMetricFamily("ticketflow_open_tasks", "Open user tasks, by team.", labels=["team"]),
        "unassigned": GaugeMetricFamily(
            "ticketflow_unassigned_tasks", "Open user tasks nobody holds, by team.", labels=["team"]
        ),
        "jobs": GaugeMetricFamily(
            "ticketflow_jobs", "Service-task jobs, by status (pending, running, incident).", labels=["status"]
        ),
        "incidents": GaugeMetricFamily(
            "ticketflow_open_incidents",
            "Unresolved incidents, by kind (job, timer, engine).",
            labels=["kind"],
        ),
        "timers": GaugeMetricFamily("ticketflow_timers_waiting", "Timers waiting to fire."),
        "timers_due": GaugeMetricFamily("ticketflow_timers_due", "Timers due now and not fired yet."),
        "lag": GaugeMetricFamily(
            "ticketflow_timer_lag_seconds", "Age of the oldest due but unfired timer (0 when none is late)."
        ),
        "alerts": GaugeMetricFamily(
            "ticketflow_alerts_firing", "Alerts firing now, by metric.", labels=["metric"]
        ),
    }


def _tickets(families: dict, now) -> None:
    """Tickets by type and status, and those that missed their SLA, from the pre-aggregated
    `ticket_count` (kept in each transaction that changes a ticket by app/stats/counts.py: a few
    hundred rows whatever the number of tickets); open tickets past due now from ticket's index of
    running clocks."""
    by_status = db.session.execute(
        db.select(TicketCount.type, TicketCount.status, func.sum(TicketCount.n)).group_by(
            TicketCount.type, TicketCount.status
        )
    ).all()
    late = dict(
        db.session.execute(
            db.select(TicketCount.type, func.sum(TicketCount.n))
            .where(TicketCount.missed.is_(True))
            .group_by(TicketCount.type)
        ).all()
    )
    # Open tickets past due, one sum per type in a single aggregate without GROUP BY: grouping would
    # lead SQLite to ix_ticket_type_status, and `IS NOT NULL` to ix_ticket_sla_due_at (every ticket
    # past due, closed ones too); a lower bound on the running clock reads ix_ticket_sla_clock_due.
    types = sorted({ticket_type for ticket_type, _, n in by_status if n})
    overdue = {}
    if types:
        sums = db.session.execute(
            db.select(*(func.sum(case((Ticket.type == t, 1), else_=0)) for t in types)).where(
                Ticket.sla_running_since >= EPOCH,
                Ticket.sla_due_at < now,
                or_(Ticket.sla_met.is_(None), Ticket.sla_met == true()),  # late ones are counted above
            )
        ).one()
        overdue = {t: int(n or 0) for t, n in zip(types, sums, strict=True)}
    totals: dict[str, dict[str, int]] = {}
    for ticket_type, status, count in by_status:
        figures = totals.setdefault(ticket_type, {"open": 0, "closed": 0, "cancelled": 0})
        state = "cancelled" if status == "cancelled" else "closed" if status in STOPPING else "open"
        figures[state] += int(count or 0)
    for ticket_type in types:
        figures = totals[ticket_type]
        late_here = int(late.get(ticket_type) or 0)
        families["opened"].add_metric([ticket_type], sum(figures.values()))
        families["closed"].add_metric([ticket_type], figures["closed"])
        families["cancelled"].add_metric([ticket_type], figures["cancelled"])
        families["open"].add_metric([ticket_type], figures["open"])
        families["breaches"].add_metric([ticket_type], late_here + overdue.get(ticket_type, 0))
        families["breached_open"].add_metric([ticket_type], overdue.get(ticket_type, 0))


def _tasks(families: dict) -> None:
    rows = db.session.execute(
        db.select(
            HumanTask.team, func.count(), func.sum(case((HumanTask.assignee_id.is_(None), 1), else_=0))
        ).group_by(HumanTask.team)
    ).all()
    for team, count, unassigned in sorted(rows, key=lambda r: r[0] or ""):
        families["tasks"].add_metric([team or "none"], count)
        families["unassigned"].add_metric([team or "none"], int(unassigned or 0))


def _jobs(families: dict) -> None:
    counts = dict(db.session.execute(db.select(Job.status, func.count()).group_by(Job.status)).all())
    for status in sorted({"pending", "running", "incident", *counts}):
        families["jobs"].add_metric([status], counts.get(status, 0))


def _incidents(families: dict) -> None:
    counts = dict(
        db.session.execute(
            db.select(Incident.kind, func.count())
            .where(Incident.resolved_at.is_(None))
            .group_by(Incident.kind)
        ).all()
    )
    for kind in sorted({"job", "timer", "engine", *counts}):
        families["incidents"].add_metric([kind], counts.get(kind, 0))


def _timers(families: dict, now) -> None:
    waiting = db.session.execute(db.select(func.count()).select_from(Timer)).scalar_one()
    due_count, oldest = db.session.execute(
        db.select(func.count(), func.min(Timer.due_at)).where(Timer.due_at <= now)  # ix_timer_due_at
    ).one()
    families["timers"].add_metric([], waiting)
    families["timers_due"].add_metric([], due_count)
    lag = 0.0
    if oldest is not None:
        if isinstance(oldest, str) or oldest.tzinfo is None:  # a driver that lost the column type
            oldest = Timer.due_at.type.process_result_value(oldest, db.engine.dialect)
        lag = max(0.0, (now - oldest).total_seconds())
    families["lag"].add_metric([], lag)


def _alerts(families: dict) -> None:
    counts = dict(
        db.session.execute(
            db.select(AlertEvent.metric, func.count())
            .where(AlertEvent.resolved_at.is_(None))
            .group_by(AlertEvent.metric)
        ).all()
    )
    for metric in sorted({"sla_attainment", "backlog", "csat", *counts}):
        families["alerts"].add_metric([metric], counts.get(metric, 0))
