"""Deliveries written with the command an event happened in: one row per event and matching subscription.

The engine hands every command's history rows to `enqueue_events` just before its commit
(app/engine/runtime/history.py), so a delivery exists exactly when the command's change does:
a failed or retried command writes none, a committed one all. Nothing is sent here; the worker
sends after the commit (app/webhooks/delivery.py).

The hot path stays small: a command whose history has no webhook event costs a set lookup per
row; one with events reads the active subscriptions from a per-process copy (refreshed by one
indexed query every WEBHOOK_SUBSCRIPTION_CACHE_SECONDS, dropped when this process changes a
subscription), and writes nothing when none wants those events.

An SLA breach is not a command (time passes): the worker's sweep finds it (`enqueue_sla_breaches`)
and writes one delivery per ticket and subscription (`dedup_key`).
"""

import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert

from app.clock import utcnow
from app.extensions import db
from app.models import Ticket, WebhookDelivery, WebhookSubscription
from app.transactions import write_transaction

_CACHE = "webhook_subscriptions"  # app.extensions key: (expires at, [(id, events)])
SET_STATUS = "ticket.set_status"  # the handler whose completed job is a status change
SLA_BREACHED = "ticket.sla_breached"
SLA_LOOKBACK = timedelta(days=1)  # the sweep looks this far back for breaches it has not sent
SLA_BATCH = 500
# History kinds that may be an event (the rest of a command's rows are skipped by this set).
KINDS = frozenset(
    {
        "ticket_created",
        "task_assigned",
        "task_claimed",
        "task_reassigned",
        "task_completed",
        "feedback_recorded",
        "incident_opened",
        "ticket_closed",
        "ticket_reopened",
        "customer_message_read",
        "service_completed",
    }
)


def event_of(row: dict) -> tuple[str, dict] | None:
    """(event name, event-specific data) of one history row, or None when it is no event."""
    kind, data = row["kind"], row.get("data") or {}
    task = {"id": row.get("task_id"), "name": row.get("element_id"), "title": row.get("element_name")}
    if kind == "ticket_created":
        return "ticket.opened", {}
    if kind == "task_assigned":  # by the routing rules when the task opens (assignee None: the team's queue)
        assigned = {"team": data.get("team"), "assignee": data.get("assignee"), "how": "routed"}
        return "task.assigned", {"task": task | assigned}
    if kind in ("task_claimed", "task_reassigned"):  # an agent took it; a lead gave it to someone
        assignee = data.get("assignee") or row.get("actor")
        return "task.assigned", {"task": task | {"assignee": assignee, "how": kind.removeprefix("task_")}}
    if kind == "task_completed":
        return "task.completed", {"task": task, "completed_by": row.get("actor")}
    if kind == "feedback_recorded":
        return "feedback.received", {
            "feedback": {"id": data.get("feedback_id"), "rating": data.get("rating")}
        }
    if kind == "incident_opened":
        incident = {
            "kind": data.get("kind"),
            "message": data.get("message"),
            "element_id": row.get("element_id"),
        }
        return "incident.opened", {"incident": incident}
    if kind in ("ticket_closed", "ticket_reopened"):
        previous = data.get("previous") or data.get("previous_status")
        return "ticket.status_changed", {"status": data.get("status"), "previous_status": previous}
    if kind == "customer_message_read" and data.get("closed_again"):
        return "ticket.status_changed", {"status": data.get("status"), "previous_status": "reopened"}
    if kind == "service_completed" and data.get("operator") == SET_STATUS:
        result = data.get("result") or {}
        return "ticket.status_changed", {
            "status": result.get("status"),
            "resolution": result.get("resolution"),
        }
    return None


def active_subscriptions(session) -> list[tuple[int, frozenset]]:
    """(id, events) of every active subscription, cached per process and app.

    The cache lives WEBHOOK_SUBSCRIPTION_CACHE_SECONDS (0: a query every time) and is dropped at
    once when this process changes a subscription (`subscriptions_changed`); another process sees
    a change when its copy expires. Reading it costs one indexed query on a small table.
    """
    ttl = current_app.config.get("WEBHOOK_SUBSCRIPTION_CACHE_SECONDS", 0)
    cached = current_app.extensions.get(_CACHE)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = session.execute(
        db.select(WebhookSubscription.id, WebhookSubscription.events).where(
            WebhookSubscription.active.is_(True)
        )
    ).all()
    found = [(sid, frozenset(events or ())) for sid, events in rows]
    if ttl > 0:
        current_app.extensions[_CACHE] = (now + ttl, found)
    return found


def subscriptions_changed() -> None:
    """Forget this process's copy of the active subscriptions (after an admin changed one)."""
    current_app.extensions.pop(_CACHE, None)


def ticket_data(ticket: Ticket | None) -> dict | None:
    """What every event says about its ticket."""
    if ticket is None:
        return None
    return {
        "id": ticket.id,
        "reference": f"#{ticket.id}",
        "type": ticket.type,
        "subject": ticket.subject,
        "status": ticket.status,
        "resolution": ticket.resolution,
        "priority": ticket.priority,
        "customer_id": ticket.customer_id,
        "sla_due_at": _iso(ticket.sla_due_at),
    }


def _iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def enqueue_events(session, rows: list[dict]) -> int:
    """Write the deliveries of a command's history rows (inside its transaction); returns how many."""
    found = [(row, event) for row in rows if row["kind"] in KINDS and (event := event_of(row))]
    if not found:
        return 0
    subscriptions = active_subscriptions(session)
    if not subscriptions:
        return 0
    now, deliveries, tickets = utcnow(), [], {}
    for row, (name, extra) in found:
        wanted = [sid for sid, events in subscriptions if name in events]
        if not wanted:
            continue
        ticket_id = row.get("ticket_id")
        if ticket_id is not None and ticket_id not in tickets:
            tickets[ticket_id] = ticket_data(session.get(Ticket, ticket_id))
        payload = {
            "event": name,
            "occurred_at": _iso(row.get("at") or now),
            "data": {"ticket": tickets.get(ticket_id), "actor": row.get("actor"), **extra},
        }
        deliveries += [_row(sid, name, ticket_id, payload, now) for sid in wanted]
    if deliveries:
        session.execute(insert(WebhookDelivery.__table__), deliveries)
    return len(deliveries)


def _row(subscription_id: int, event: str, ticket_id, payload: dict, now, dedup_key=None) -> dict:
    return {
        "subscription_id": subscription_id,
        "event": event,
        "ticket_id": ticket_id,
        "payload": payload,
        "dedup_key": dedup_key,
        "state": "pending",
        "attempts": 0,
        "created_at": now,
    }


def enqueue_sla_breaches() -> int:
    """The worker's sweep: one `ticket.sla_breached` delivery per running ticket past its due time.

    Each ticket is announced once per subscription (`dedup_key`), and only breaches from after the
    subscription was made and within SLA_LOOKBACK. Returns the number of deliveries written.
    """
    with write_transaction():
        session = db.session
        subscriptions = session.execute(
            db.select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
        ).scalars()
        subscriptions = [s for s in subscriptions if SLA_BREACHED in (s.events or ())]
        if not subscriptions:
            return 0
        now = utcnow()
        since = max(now - SLA_LOOKBACK, min(s.created_at for s in subscriptions))
        tickets = (
            session.execute(
                db.select(Ticket)
                .where(Ticket.sla_due_at <= now, Ticket.sla_due_at > since)  # ix_ticket_sla_due_at
                .where(Ticket.sla_running_since.is_not(None))
                .order_by(Ticket.sla_due_at)
                .limit(SLA_BATCH)
            )
            .scalars()
            .all()
        )
        if not tickets:
            return 0
        keys = {f"sla_breached:{t.id}": t for t in tickets}
        done = set(
            session.execute(
                db.select(WebhookDelivery.subscription_id, WebhookDelivery.dedup_key).where(
                    WebhookDelivery.subscription_id.in_([s.id for s in subscriptions]),
                    WebhookDelivery.dedup_key.in_(list(keys)),
                )
            ).all()
        )
        deliveries = []
        for key, ticket in keys.items():
            payload = {
                "event": SLA_BREACHED,
                "occurred_at": _iso(ticket.sla_due_at),
                "data": {"ticket": ticket_data(ticket), "actor": None},
            }
            for s in subscriptions:
                if (s.id, key) not in done and ticket.sla_due_at > s.created_at:
                    deliveries.append(_row(s.id, SLA_BREACHED, ticket.id, payload, now, key))
        if deliveries:
            session.execute(insert(WebhookDelivery.__table__), deliveries)
        return len(deliveries)
