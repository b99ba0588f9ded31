"""Alert rules: the figures they watch, their evaluation by the worker, and who is told.

A rule watches one figure for a ticket type and a team (None: all of them):

- `sla_attainment`: of the tickets opened in the last `window_days` whose SLA is decided (met, or
  breached: finished late or still open past due), the share met, in %; fires below the threshold;
- `backlog`: open tickets (status not final, app.sla.STOPPING) now; fires above the threshold;
- `csat`: the average rating (1-5) of the feedback received in the last `window_days`; fires
  below the threshold.

A ticket's team is the team whose SLA calendar counts for it (`ticket.sla_team_key`, from its
type's SLA policy). A figure without data (no decided ticket, no rating) fires nothing.

`evaluate_alerts` (run by the worker every ALERT_EVALUATE_SECONDS) opens an `alert_event` when a
rule's figure crosses its threshold and no event of the rule is still firing, queues one outbox
e-mail per manager and admin, and resolves the firing event once the figure is back. Each rule
keeps the value it saw (`last_value`, `evaluated_at`): the Alerts page shows it without counting.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_

from app.clock import utcnow
from app.extensions import db
from app.models import ALERT_METRICS, AlertEvent, AlertRule, Feedback, OutboxMessage, Ticket, User
from app.sla import STOPPING
from app.transactions import write_transaction

NOTIFIED_ROLES = ("manager", "admin")


def _scoped(query, ticket_type: str | None, team_key: str | None):
    if ticket_type:
        query = query.where(Ticket.type == ticket_type)
    if team_key:
        query = query.where(Ticket.sla_team_key == team_key)
    return query


def sla_attainment(
    ticket_type: str | None, team_key: str | None, since: datetime, now: datetime
) -> float | None:
    """% of the decided SLAs met among tickets opened since `since`; None when none is decided."""
    breached = or_(
        Ticket.sla_met.is_(False), (Ticket.sla_running_since.is_not(None) & (Ticket.sla_due_at < now))
    )
    met, late = db.session.execute(
        _scoped(
            db.select(
                func.sum(case((Ticket.sla_met.is_(True), 1), else_=0)), func.sum(case((breached, 1), else_=0))
            ).where(Ticket.created_at >= since),
            ticket_type,
            team_key,
        )
    ).one()
    met, late = int(met or 0), int(late or 0)
    return None if met + late == 0 else round(100.0 * met / (met + late), 1)


def backlog(ticket_type: str | None, team_key: str | None) -> int:
    """Open tickets now (not in a final status)."""
    query = db.select(func.count()).select_from(Ticket).where(Ticket.status.not_in(STOPPING))
    return db.session.execute(_scoped(query, ticket_type, team_key)).scalar_one()


def csat(ticket_type: str | None, team_key: str | None, since: datetime) -> float | None:
    """Average rating of the feedback received since `since`; None without any."""
    query = (
        db.select(func.avg(Feedback.rating))
        .join(Ticket, Ticket.id == Feedback.ticket_id)
        .where(Feedback.created_at >= since)
    )
    average = db.session.execute(_scoped(query, ticket_type, team_key)).scalar()
    return None if average is None else round(float(average), 2)


def figure(rule: AlertRule, now: datetime) -> float | None:
    """The current value of what the rule watches."""
    since = now - timedelta(days=rule.window_days)
    if rule.metric == "sla_attainment":
        return sla_attainment(rule.ticket_type, rule.team_key, since, now)
    if rule.metric == "backlog":
        return float(backlog(rule.ticket_type, rule.team_key))
    if rule.metric == "csat":
        return csat(rule.ticket_type, rule.team_key, since)
    raise ValueError(f"unknown alert metric '{rule.metric}'")


def crosses(rule: AlertRule, value: float | None) -> bool:
    """Whether the value is on the wrong side of the threshold (never without a value)."""
    if value is None:
        return False
    direction = ALERT_METRICS[rule.metric][1]
    return value < rule.threshold if direction == "below" else value > rule.threshold


def describe(rule: AlertRule) -> str:
    """'SLA attainment (%) below 90 · complaint · team support · 7 days'."""
    label, direction = ALERT_METRICS[rule.metric]
    parts = [f"{label} {direction} {rule.threshold:g}", rule.ticket_type or "every type"]
    parts.append(f"team {rule.team_key}" if rule.team_key else "every team")
    if rule.metric != "backlog":
        parts.append(f"last {rule.window_days} days")
    return " · ".join(parts)


@dataclass
class Evaluation:
    """What one evaluation did: the events opened and the events resolved."""

    fired: list[AlertEvent]
    resolved: list[AlertEvent]


def evaluate_alerts(now: datetime | None = None) -> Evaluation:
    """Evaluate every enabled rule in one write transaction: fire, notify, resolve."""
    now = now or utcnow()
    result = Evaluation([], [])
    with write_transaction():
        rules = db.session.execute(db.select(AlertRule).order_by(AlertRule.id)).scalars().all()
        firing = {
            event.rule_id: event
            for event in db.session.execute(
                db.select(AlertEvent).where(AlertEvent.resolved_at.is_(None), AlertEvent.rule_id.is_not(None))
            ).scalars()
        }
        for rule in rules:
            open_event = firing.get(rule.id)
            value = figure(rule, now) if rule.enabled else None
            rule.last_value, rule.evaluated_at = value, now  # what the page shows
            if crosses(rule, value):
                if open_event is None:  # no re-fire while the last one still fires
                    result.fired.append(_fire(rule, value, now))
            elif open_event is not None:
                open_event.resolved_at = now
                result.resolved.append(open_event)
    return result


def _fire(rule: AlertRule, value: float, now: datetime) -> AlertEvent:
    event = AlertEvent(
        rule_id=rule.id,
        metric=rule.metric,
        description=describe(rule),
        value=value,
        threshold=rule.threshold,
        fired_at=now,
    )
    db.session.add(event)
    db.session.flush()
    recipients = db.session.execute(
        db.select(User).where(User.role.in_(NOTIFIED_ROLES), User.active.is_(True), User.email.is_not(None))
    ).scalars()
    for user in recipients:
        db.session.add(
            OutboxMessage(
                kind="email",
                recipient=user.email,
                subject=f"Ticketflow alert: {ALERT_METRICS[rule.metric][0]} is {value:g}",
                body=(
                    f"Hello {user.name},\n\nan alert fired at {now:%Y-%m-%d %H:%M} UTC: {event.description}.\n"
                    f"The value is {value:g} (threshold {rule.threshold:g}).\n\n"
                    "Every alert is listed on the dashboard's Alerts page.\n"
                ),
                payload={"alert_event_id": event.id, "rule_id": rule.id},
                idempotency_key=f"alert:{event.id}:{user.id}",
                created_at=now,
            )
        )
    return event


def firing_after(event_id: int) -> list[AlertEvent]:
    """Events still firing with an id above `event_id` (the banner: those not dismissed yet)."""
    return (
        db.session.execute(
            db.select(AlertEvent)
            .where(AlertEvent.resolved_at.is_(None), AlertEvent.id > event_id)
            .order_by(AlertEvent.id.desc())
            .limit(5)
        )
        .scalars()
        .all()
    )
