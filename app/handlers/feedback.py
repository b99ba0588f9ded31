"""The satisfaction survey request: a signed, expiring, single-use link e-mailed to the customer.

`feedback.request` creates a `feedback_request` row (a reminder re-sends the open one) and
queues the e-mail in the outbox under the job's idempotency key, so a retried job sends once.
The link's token is an itsdangerous signature of (request id, nonce) with the app's secret;
`read_survey_token` is its other half, used by the survey page. The row decides whether a
link still works: `expires_at` and `used_at`.
"""

import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadPayload, TimestampSigner, URLSafeTimedSerializer

from app.clock import utcnow
from app.extensions import db
from app.handlers.common import ticket_of
from app.handlers.registry import HandlerContext, HandlerRefused, handler
from app.models import Feedback, FeedbackRequest, OutboxMessage, Ticket

SURVEY_SALT = "ticketflow-survey"


class _IssuedAtSigner(TimestampSigner):
    """Signs with the request's issue time instead of now, so one request has exactly one link."""

    def __init__(self, *args, issued_at: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        return self.issued_at


def link_days() -> int:
    """How many days a survey link works (app config FEEDBACK_LINK_DAYS)."""
    return int(current_app.config.get("FEEDBACK_LINK_DAYS", 14))


def survey_token(request: FeedbackRequest) -> str:
    """The signed token of a survey request; the same request always gets the same token."""
    serializer = URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=SURVEY_SALT,
        signer=_IssuedAtSigner,
        signer_kwargs={"issued_at": int(request.created_at.timestamp())},
    )
    return serializer.dumps({"r": request.id, "n": request.nonce})


def survey_link(request: FeedbackRequest) -> str:
    """The absolute URL of the survey page of a request."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/survey/{survey_token(request)}"


def read_survey_token(token: str) -> tuple[int, str]:
    """The (request id, nonce) a survey token signs.

    Raises:
        itsdangerous.SignatureExpired: the signature is older than the link's lifetime.
        itsdangerous.BadData: the token was tampered with or is not a survey token.
    """
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SURVEY_SALT)
    data = serializer.loads(token, max_age=link_days() * 86400)
    if not (isinstance(data, dict) and isinstance(data.get("r"), int) and isinstance(data.get("n"), str)):
        raise BadPayload("the token does not name a survey request")
    return data["r"], data["n"]


@handler("feedback.request", parameters=(("reminder", "bool", False),), inline=True)
def request_feedback(params: dict, ctx: HandlerContext) -> dict:
    """E-mail the ticket's customer a survey link; `reminder` re-sends the open request.

    A reminder for a survey already answered sends nothing and returns the answer
    (`sent` False, `feedback` {rating, comment}): it may have arrived while the process was
    not listening for `feedback_received`.
    """
    reminder = params.get("reminder", False)
    if not isinstance(reminder, bool):
        raise HandlerRefused(f"parameter 'reminder' must be true or false, got {reminder!r}")
    queued = db.session.execute(
        db.select(OutboxMessage).where(OutboxMessage.idempotency_key == ctx.idempotency_key)
    ).scalar()
    if queued is not None:  # a retried job: its e-mail is already in the outbox
        return {
            "feedback_request_id": queued.payload["feedback_request_id"],
            "reminder": reminder,
            "sent": True,
        }
    ticket = ticket_of(ctx)
    now = utcnow()
    request = _latest_request(ticket.id) if reminder else None
    if request is not None and request.used_at is not None:  # answered meanwhile: no reminder
        answer = db.session.execute(
            db.select(Feedback).where(Feedback.feedback_request_id == request.id)
        ).scalar()
        return {
            "feedback_request_id": request.id,
            "reminder": True,
            "sent": False,
            "feedback": {"rating": answer.rating, "comment": answer.comment or ""} if answer else None,
        }
    if request is None or request.expires_at <= now:
        request = FeedbackRequest(
            ticket_id=ticket.id,
            nonce=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + timedelta(days=link_days()),
        )
        db.session.add(request)
        db.session.flush()
    subject, body = _email(ticket, survey_link(request), request.expires_at, reminder)
    db.session.add(
        OutboxMessage(
            kind="email",
            ticket_id=ticket.id,
            recipient=ticket.customer.email,
            subject=subject,
            body=body,
            idempotency_key=ctx.idempotency_key,
            payload={"feedback_request_id": request.id, "reminder": reminder},
            created_at=now,
        )
    )
    db.session.flush()
    return {"feedback_request_id": request.id, "reminder": reminder, "sent": True}


def _latest_request(ticket_id: int) -> FeedbackRequest | None:
    return db.session.execute(
        db.select(FeedbackRequest)
        .where(FeedbackRequest.ticket_id == ticket_id)
        .order_by(FeedbackRequest.id.desc())
        .limit(1)
    ).scalar()


def _email(ticket: Ticket, link: str, expires_at: datetime, reminder: bool) -> tuple[str, str]:
    opening = (
        "A short reminder: we would still like to hear from you."
        if reminder
        else f'Your ticket "{ticket.subject}" has been resolved.'
    )
    body = (
        f"Hello {ticket.customer.name},\n\n{opening}\n\n"
        "How satisfied are you with our help? Rate it from 1 to 5 (and tell us why, if you like); "
        "it takes a minute and needs no sign-in:\n\n"
        f"{link}\n\n"
        f"The link works once, until {expires_at:%d %B %Y}.\n\nThank you,\nCustomer service"
    )
    prefix = "Reminder: " if reminder else ""
    return f"[Ticket #{ticket.id}] {prefix}How did we do?", body
