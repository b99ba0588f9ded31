"""The worker's send step: claim due outbox rows with a lease, send each, record the outcome.

A row is claimed the way jobs are (`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE`
on SQLite), so two workers never claim the same row. The SMTP conversation happens after the
claim's transaction has committed and outside any other: nothing is sent inside a transaction.
The outcome is written only if the row is still this worker's claim (state `sending`, same
attempt). A claim whose lease ran out means its worker stopped between sending and recording:
the mail may have left, so it is never sent again but marked `failed` for an admin to see.

Temporary failures (4xx, refused or dropped connections, timeouts) are tried again after
MAIL_RETRY_SECONDS, doubling up to MAIL_RETRY_MAX_SECONDS; a permanent failure (5xx) or the
MAIL_MAX_ATTEMPTS-th attempt leaves the row `failed` with its error, listed on /admin/outbox.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_

from app.clock import utcnow
from app.extensions import db
from app.mail import smtp
from app.mail.compose import compose, new_message_id
from app.models import OutboxMessage
from app.transactions import write_transaction

log = logging.getLogger(__name__)
BATCH = 20
LAPSED = (
    "the worker stopped while sending (its lease ran out): the mail may have left, so it is not sent again"
)


@dataclass(frozen=True)
class ClaimedMail:
    id: int
    attempt: int


def claim_mail(limit: int = BATCH, lease_seconds: int | None = None) -> list[ClaimedMail]:
    """Claim due e-mails for this worker: state `sending`, one more attempt, a lease, a Message-ID."""
    lease_seconds = lease_seconds or current_app.config["MAIL_LEASE_SECONDS"]
    with write_transaction():
        now = utcnow()
        query = (
            db.select(OutboxMessage)
            .where(
                OutboxMessage.kind == "email",
                or_(
                    and_(
                        OutboxMessage.state == "pending",
                        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
                    ),
                    and_(OutboxMessage.state == "sending", OutboxMessage.lease_until < now),
                ),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for row in db.session.execute(query).scalars().all():
            if row.state == "sending":
                row.state, row.last_error, row.lease_until = "failed", LAPSED, None
                log.warning("outbox %s: %s", row.id, LAPSED)
                continue
            row.state = "sending"
            row.attempts += 1
            row.lease_until = now + timedelta(seconds=lease_seconds)
            if row.message_id is None:
                row.message_id = new_message_id(row)
            claimed.append(ClaimedMail(row.id, row.attempts))
    return claimed


def send_due_mail(limit: int = BATCH) -> int:
    """Claim and send the due e-mails; returns how many the server answered.

    0 when mail is off (no MAIL_HOST, no catcher), when none is due, and when the server could not
    be reached (that mail is retried later, the rest of the batch waits, its attempts uncounted):
    the worker sends until 0.
    """
    settings = smtp.settings_from(current_app.config, catcher_port())
    if settings is None:
        return 0
    claimed = claim_mail(limit)
    for index, mail in enumerate(claimed):
        if not deliver(mail, settings):  # the server is unreachable: the rest wait, uncounted
            for rest in claimed[index + 1 :]:
                release(rest)
            return 0
    return len(claimed)


def catcher_port() -> int | None:
    catcher = current_app.extensions.get("mail_catcher")
    return catcher.port if catcher is not None else None


def deliver(mail: ClaimedMail, settings: smtp.SmtpSettings) -> bool:
    """Compose and send one claimed mail, then record what happened.

    Returns False when the server could not be reached (no SMTP answer at all), so the batch stops.
    """
    try:
        message = compose(db.session.get(OutboxMessage, mail.id))
    except Exception as exc:  # a template or data error: no try can fix it
        log.exception("outbox %s could not be composed", mail.id)
        db.session.rollback()
        record(mail, error=f"the message could not be composed: {type(exc).__name__}: {exc}", temporary=False)
        return True
    db.session.rollback()  # end the read: the SMTP conversation holds no transaction
    try:
        smtp.send(settings, message)
    except Exception as exc:
        log.warning("outbox %s: sending failed: %s", mail.id, smtp.describe(exc))
        record(mail, error=smtp.describe(exc), temporary=smtp.is_temporary(exc))
        return not smtp.is_unreachable(exc)
    record(mail)
    return True


def release(mail: ClaimedMail) -> None:
    """Give a claim back untried: `pending` again, its attempt not counted."""
    with write_transaction():
        row = db.session.get(OutboxMessage, mail.id)
        if row is not None and row.state == "sending" and row.attempts == mail.attempt:
            row.state, row.attempts, row.lease_until = "pending", row.attempts - 1, None


def retry_delay(attempt: int) -> timedelta:
    """The wait after the `attempt`-th try: MAIL_RETRY_SECONDS doubling, at most MAIL_RETRY_MAX_SECONDS."""
    config = current_app.config
    return timedelta(
        seconds=min(config["MAIL_RETRY_SECONDS"] * 2 ** (attempt - 1), config["MAIL_RETRY_MAX_SECONDS"])
    )


def record(mail: ClaimedMail, error: str | None = None, temporary: bool = False) -> None:
    """Write the outcome of a claim, if the row is still this claim's (never raising)."""
    try:
        with write_transaction():
            row = db.session.get(OutboxMessage, mail.id)
            if row is None or row.state != "sending" or row.attempts != mail.attempt:
                log.warning("outbox %s: the claim was lost before its outcome was recorded", mail.id)
                return
            now = utcnow()
            row.lease_until = None
            if error is None:
                row.state, row.sent_at, row.last_error = "sent", now, None
            elif temporary and row.attempts < current_app.config["MAIL_MAX_ATTEMPTS"]:
                row.state, row.last_error = "pending", error
                row.next_attempt_at = now + retry_delay(row.attempts)
            else:
                row.state, row.last_error = "failed", error
    except Exception:  # the lease runs out; the next claim marks the row failed, never sent twice
        db.session.rollback()
        log.exception("outbox %s: the outcome could not be recorded", mail.id)
