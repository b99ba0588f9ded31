"""Survey pages: rate a resolved ticket from 1 to 5 and comment, through a single-use signed link.

No sign-in: the link is the credential. A tampered, expired, used or unknown link gets a
friendly page and stores nothing. An answer is stored and delivered to the waiting process
(message `feedback_received`) in one engine command; if nothing waits for it, it is kept anyway.
"""

import hmac
import logging
from collections.abc import Callable

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, SignatureExpired
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.engine import EngineError, NotFound, deliver_message, run_command
from app.extensions import db
from app.handlers.feedback import link_days, read_survey_token
from app.models import Feedback, FeedbackRequest, Ticket
from app.web.survey.blueprint import bp

log = logging.getLogger(__name__)

MESSAGE = "feedback_received"
MAX_COMMENT = 4000
RATINGS = ((1, "Very dissatisfied"), (2, "Dissatisfied"), (3, "Neither"), (4, "Satisfied"),
           (5, "Very satisfied"))


class LinkFault(Exception):
    """A survey link that cannot be answered (now); rendered as a friendly page with its status."""

    PAGES = {
        "invalid": (400, "This link does not work",
                    "The survey link is incomplete or has been changed. Please open it straight "
                    "from the e-mail we sent you."),
        "expired": (410, "This survey has closed",
                    "Survey links work for {days} and this one has expired. "
                    "Thank you for thinking of us all the same."),
        "used": (410, "You have already answered",
                 "Thank you: we have your answer to this survey. Each link can be used once."),
        "unknown": (410, "This survey is no longer available",
                    "We cannot find the survey this link belongs to. If you would like to tell us "
                    "something, simply reply to any e-mail about your ticket."),
        "session": (400, "Please open the link again",
                    "This page was open too long, or your browser did not keep our cookie. Open the "
                    "link from the e-mail again and send your answer; nothing was saved."),
        "failed": (500, "We could not save your answer",
                   "Something went wrong on our side and nothing was saved. We have been told; "
                   "please try the link again later."),
    }

    def __init__(self, kind: str):
        super().__init__(kind)
        self.status, self.title, text = self.PAGES[kind]
        days = link_days()
        self.text = text.format(days=f"{days} day" if days == 1 else f"{days} days")


class _AlreadyAnswered(Exception):
    """The request was used by a concurrent answer after the page checked it."""


@bp.errorhandler(LinkFault)
def link_fault(fault: LinkFault):
    """Explain why the link cannot be answered."""
    return render_template("survey/closed.html", fault=fault), fault.status


@bp.errorhandler(CSRFError)
def csrf_fault(_error: CSRFError):
    """Explain a missing or stale form token."""
    return link_fault(LinkFault("session"))


def _open(token: str) -> FeedbackRequest:
    """The survey request a token names, if it can still be answered; LinkFault otherwise."""
    try:
        request_id, nonce = read_survey_token(token)
    except SignatureExpired:
        raise LinkFault("expired") from None
    except BadData:
        raise LinkFault("invalid") from None
    row = db.session.get(FeedbackRequest, request_id)
    if row is None:
        raise LinkFault("unknown")
    if not hmac.compare_digest(row.nonce.encode(), nonce.encode()):
        raise LinkFault("invalid")
    if row.used_at is not None:
        raise LinkFault("used")
    if row.expires_at <= utcnow():
        raise LinkFault("expired")
    return row


@bp.get("/<token>")
def show(token: str):
    """Show the survey for a ticket: a rating from 1 to 5 and a comment."""
    row = _open(token)
    ticket = db.session.get(Ticket, row.ticket_id)
    return render_template("survey/form.html", ticket=ticket, ratings=RATINGS, rating="", comment="",
                           errors={})


@bp.post("/<token>")
def answer(token: str):
    """Store the rating and comment, and tell the waiting process."""
    row = _open(token)
    ticket = db.session.get(Ticket, row.ticket_id)
    raw_rating = request.form.get("rating", "").strip()
    comment = request.form.get("comment", "").replace("\r\n", "\n").strip()  # as the browser counts
    errors = {}
    if raw_rating not in {str(value) for value, _ in RATINGS}:
        errors["rating"] = "Choose a rating from 1 (very dissatisfied) to 5 (very satisfied)."
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"Keep the comment under {MAX_COMMENT} characters (it has {len(comment)})."
    if errors:
        return render_template("survey/form.html", ticket=ticket, ratings=RATINGS, rating=raw_rating,
                               comment=comment, errors=errors), 422
    rating, ticket_id = int(raw_rating), row.ticket_id
    store = _storing(row.id, ticket_id, rating, comment or None)
    try:
        try:
            deliver_message(ticket_id, MESSAGE, {"rating": rating, "comment": comment},
                            actor="customer", store_first=store)
        except NotFound:  # nothing waits for it (an older diagram): the answer is kept all the same
            run_command(store)
    except (_AlreadyAnswered, IntegrityError):
        raise LinkFault("used") from None
    except EngineError as exc:  # the process failed on the answer: nothing was stored
        log.error("survey answer for ticket %s not delivered: %s", ticket_id, exc.message)
        raise LinkFault("failed") from None
    return render_template("survey/thanks.html", ticket=ticket, rating=rating)


def _storing(request_id: int, ticket_id: int, rating: int, comment: str | None) -> Callable[[], None]:
    """A writer of the answer that claims its request first, so a link is used only once."""

    def store() -> None:
        row = db.session.execute(db.select(FeedbackRequest).where(FeedbackRequest.id == request_id)
                                 .with_for_update().execution_options(populate_existing=True)).scalar_one()
        if row.used_at is not None:
            raise _AlreadyAnswered()
        now = utcnow()
        row.used_at = now
        db.session.add(Feedback(ticket_id=ticket_id, feedback_request_id=request_id, rating=rating,
                                comment=comment, created_at=now))
        db.session.flush()

    return store
