"""The worker's webhook step: claim due deliveries with a lease, POST each, record the outcome.

Claimed like the outbox (app/mail/outbox.py): `FOR UPDATE SKIP LOCKED` on PostgreSQL,
`BEGIN IMMEDIATE` on SQLite, so two workers never hold the same delivery. The request is made
after the claim's transaction committed and outside any other. The outcome is written only if
the row is still this claim's (state `sending`, same attempt). A claim whose lease ran out (its
worker stopped mid-request) is tried again as a new attempt: receivers drop a repeat by its
`X-Ticketflow-Delivery` id (docs/webhooks.md), so at-least-once is safe here.

Retried after WEBHOOK_RETRY_SECONDS, doubling up to WEBHOOK_RETRY_MAX_SECONDS: network errors,
timeouts, 5xx, 408 and 429. Any other answer outside 2xx (4xx, a redirect, which is never
followed), a refused target (SSRF) or the WEBHOOK_MAX_ATTEMPTS-th attempt leaves it `failed`,
listed on the subscription's admin page with its status, time and error.
"""

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_

from app.clock import utcnow
from app.extensions import db
from app.models import WebhookDelivery, WebhookSubscription
from app.transactions import write_transaction
from app.webhooks import http
from app.webhooks.signing import signature
from app.webhooks.targets import TargetRefused, check_url

log = logging.getLogger(__name__)
BATCH = 10  # with WEBHOOK_TIMEOUT 10 s, a batch ends well inside WEBHOOK_LEASE_SECONDS
RETRIED_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    attempt: int


@dataclass(frozen=True)
class Outcome:
    error: str | None = None
    temporary: bool = False
    status_code: int | None = None
    response_ms: int | None = None


def claim_deliveries(limit: int = BATCH, lease_seconds: int | None = None) -> list[ClaimedDelivery]:
    """Claim due deliveries for this worker: state `sending`, one more attempt, a lease."""
    lease_seconds = lease_seconds or current_app.config["WEBHOOK_LEASE_SECONDS"]
    with write_transaction():
        now = utcnow()
        query = (
            db.select(WebhookDelivery)
            .where(
                or_(
                    and_(
                        WebhookDelivery.state == "pending",
                        or_(
                            WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now
                        ),
                    ),
                    and_(WebhookDelivery.state == "sending", WebhookDelivery.lease_until < now),
                )
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for row in db.session.execute(query).scalars().all():
            if row.state == "sending" and row.attempts >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
                row.state, row.lease_until = "failed", None
                row.last_error = "the worker stopped during the last attempt (its lease ran out)"
                continue
            row.state, row.attempts = "sending", row.attempts + 1
            row.lease_until = now + timedelta(seconds=lease_seconds)
            claimed.append(ClaimedDelivery(row.id, row.attempts))
    return claimed


def deliver_due_webhooks(limit: int = BATCH) -> int:
    """Claim and send the due deliveries; returns how many were tried (the worker calls until 0)."""
    claimed = claim_deliveries(limit)
    for delivery in claimed:
        record(delivery, send(delivery))
    return len(claimed)


def body_of(row: WebhookDelivery) -> bytes:
    """The bytes POSTed (and signed): the payload as compact JSON."""
    return json.dumps(row.payload, separators=(",", ":"), sort_keys=True).encode()


def send(delivery: ClaimedDelivery) -> Outcome:
    """POST one claimed delivery, signed; never raises."""
    try:
        row = db.session.get(WebhookDelivery, delivery.id)
        subscription = row and db.session.get(WebhookSubscription, row.subscription_id)
        if subscription is None:
            return Outcome(error="the subscription was deleted")
        url, secret, event, body = subscription.url, subscription.secret, row.event, body_of(row)
    finally:
        db.session.rollback()  # end the read: the request holds no transaction
    config = current_app.config
    try:
        target = check_url(url)  # again, now: resolved, checked, and the address connected to
    except TargetRefused as exc:
        return Outcome(error=f"refused: {exc}")
    timestamp = str(int(time.time()))
    headers = {
        "X-Ticketflow-Event": event,
        "X-Ticketflow-Delivery": str(delivery.id),
        "X-Ticketflow-Timestamp": timestamp,
        "X-Ticketflow-Signature": signature(secret, timestamp, body),
    }
    started = time.perf_counter()
    try:
        answer = http.post(
            target, body, headers, config["WEBHOOK_TIMEOUT"], config["WEBHOOK_RESPONSE_MAX_BYTES"]
        )
    except Exception as exc:  # refused, reset, timed out, TLS, a broken answer: all worth another try
        elapsed = round((time.perf_counter() - started) * 1000)
        log.warning("webhook delivery %s failed: %s: %s", delivery.id, type(exc).__name__, exc)
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:1000], temporary=True, response_ms=elapsed)
    elapsed = round((time.perf_counter() - started) * 1000)
    status = answer.status
    if 200 <= status < 300:
        return Outcome(status_code=status, response_ms=elapsed)
    excerpt = answer.body[:500].decode("utf-8", "replace").strip()
    error = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if 300 <= status < 400:
        error = f"HTTP {status}: redirects are not followed (Location: {answer.location or 'none'})"
    temporary = status >= 500 or status in RETRIED_STATUSES
    return Outcome(error=error[:1000], temporary=temporary, status_code=status, response_ms=elapsed)


def retry_delay(attempt: int) -> timedelta:
    """The wait after the `attempt`-th try: WEBHOOK_RETRY_SECONDS doubling, at most WEBHOOK_RETRY_MAX_SECONDS."""
    config = current_app.config
    seconds = config["WEBHOOK_RETRY_SECONDS"] * 2 ** min(attempt - 1, 30)
    return timedelta(seconds=min(seconds, config["WEBHOOK_RETRY_MAX_SECONDS"]))


def record(delivery: ClaimedDelivery, outcome: Outcome) -> None:
    """Write the outcome of a claim, if the row is still this claim's (never raising)."""
    try:
        with write_transaction():
            row = db.session.get(WebhookDelivery, delivery.id)
            if row is None or row.state != "sending" or row.attempts != delivery.attempt:
                log.warning(
                    "webhook delivery %s: the claim was lost before its outcome was recorded", delivery.id
                )
                return
            now = utcnow()
            row.lease_until = None
            row.status_code, row.response_ms = outcome.status_code, outcome.response_ms
            if outcome.error is None:
                row.state, row.delivered_at, row.last_error = "sent", now, None
            elif outcome.temporary and row.attempts < current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
                row.state, row.last_error = "pending", outcome.error
                row.next_attempt_at = now + retry_delay(row.attempts)
            else:
                row.state, row.last_error = "failed", outcome.error
    except Exception:  # the lease runs out and the delivery is tried again
        db.session.rollback()
        log.exception("webhook delivery %s: the outcome could not be recorded", delivery.id)
