"""Survey pages: rate a resolved ticket from 1 to 5 and comment, through a single-use signed link.

No sign-in: the link is the credential. A tampered, expired, used or unknown link gets a
friendly page and stores nothing. An answer is stored and delivered to the waiting process
(message `feedback_received`) in one engine command; if nothing waits for it, it is kept anyway.
"""

import hmac
import logging

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, SignatureExpired

from app.clock import utcnow
from app.engine import AlreadyAnswered, EngineError, record_feedback
from app.extensions import db
from app.handlers.feedback import link_days, read_survey_token
from app.models import FeedbackRequest, Ticket
from app.web.survey.blueprint import bp

log = logging.getLogger(__name__)

MAX_COMMENT = 4000
RATINGS = (
    (1, "Very dissatisfied"),
    (2, "Dissatisfied"),
    (3, "Neither"),
    (4, "Satisfied"),
    (5, "Very satisfied"),
)


class LinkFault(Exception):
    """A survey link that cannot be answered (now); rendered as a friendly page with its status."""

    PAGES = {
        "invalid": (
            400,
            "This link does not work",
            "The survey link is incomplete or has been changed. Please open it straight "
            "from the e-mail we sent you.",
        ),
        "expired": (
            410,
            "This survey has closed",
            "Survey links work for {days} and this one has expired. "
            "Thank you for thinking of us all the same.",
        ),
        "used": (
            410,
            "You have already answered",
            "Thank you: we have your answer to this survey. Each link can be used once.",
        ),
        "unknown": (
            410,
            "This survey is no longer available",
            "We cannot find the survey this link belongs to. If you would like to tell us "
            "something, simply reply to any e-mail about your ticket.",
        ),
        "session": (
            400,
            "Please open the link again",
            "This page was open too long, or your browser did not keep our cookie. Open the "
            "link from the e-mail again and send your answer; nothing was saved.",
        ),
        "failed": (
            500,
            "We could not save your answer",
            "Something went wrong on our side and nothing was saved. We have been told; "
            "please try the link again later.",
        ),
    }

    def __init__(self, kind: str):
        super().__init__(kind)
        self.status, self.title, text = self.PAGES[kind]
        days = link_days()
        self.text = text.format(days=f"{days} day" if days == 1 else f"{days} days")


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
    return render_template(
        "survey/form.html", ticket=ticket, ratings=RATINGS, rating="", comment="", errors={}
    )


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
        return render_template(
            "survey/form.html",
            ticket=ticket,
            ratings=RATINGS,
            rating=raw_rating,
            comment=comment,
            errors=errors,
        ), 422
    rating, ticket_id = int(raw_rating), row.ticket_id
    try:
        record_feedback(row.id, rating, comment)
    except AlreadyAnswered:  # a concurrent answer used the link after the page checked it
        raise LinkFault("used") from None
    except EngineError as exc:  # the process failed on the answer: nothing was stored
        log.error("survey answer for ticket %s not delivered: %s", ticket_id, exc.message)
        raise LinkFault("failed") from None
    return render_template("survey/thanks.html", ticket=ticket, rating=rating)
