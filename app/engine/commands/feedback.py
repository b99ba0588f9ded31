"""Command for the satisfaction survey: store the customer's answer and tell the waiting process.

A survey request is single-use: the command claims it under a row lock, so two answers sent at
the same time store one and deliver once.
"""

from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.engine.commands.messages import deliver_message
from app.engine.errors import AlreadyAnswered, InvalidData, NotFound
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.extensions import db
from app.models import Feedback, FeedbackRequest

FEEDBACK_MESSAGE = "feedback_received"  # the message the shipped processes wait for after a survey


def record_feedback(request_id: int, rating: int, comment: str | None, actor: str = "customer") -> int:
    """Store the answer to a survey request and deliver it to the process waiting for it.

    The answer and its delivery (message `feedback_received`, payload `{rating, comment}`)
    commit together; when nothing waits for the message (an older diagram) the answer is kept
    all the same. If the process fails on it, nothing is stored and the request stays open.

    Returns:
        The id of the feedback row.

    Raises:
        NotFound: no such survey request (404).
        AlreadyAnswered: the request was answered already (409).
        InvalidData: the rating is not a whole number from 1 to 5 (422).
        StepFailed: the process failed on the answer (422).
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidData({"rating": "a rating is a whole number from 1 to 5"})

    def command():
        request = db.session.execute(
            db.select(FeedbackRequest)
            .where(FeedbackRequest.id == request_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar()
        if request is None:
            raise NotFound(f"no survey request {request_id}")
        if request.used_at is not None:
            raise AlreadyAnswered(f"survey request {request_id} was answered already")
        now = utcnow()
        request.used_at = now
        feedback = Feedback(
            ticket_id=request.ticket_id,
            feedback_request_id=request.id,
            rating=rating,
            comment=comment or None,
            created_at=now,
        )
        db.session.add(feedback)
        try:
            db.session.flush()
        except IntegrityError:  # another answer to the same request won the race
            raise AlreadyAnswered(f"survey request {request_id} was answered already") from None
        history(
            "feedback_recorded",
            ticket_id=request.ticket_id,
            actor=actor,
            at=now,
            data={"feedback_id": feedback.id, "request_id": request.id, "rating": rating},
        )
        try:
            deliver_message(
                request.ticket_id, FEEDBACK_MESSAGE, {"rating": rating, "comment": comment or ""}, actor=actor
            )  # joins this command
        except NotFound:  # nothing waits for it: nothing was written by the delivery, the answer is kept
            pass
        return feedback.id

    return run_command(command)
