"""The conversation and survey commands: add_comment, answer_question, record_feedback.

Each writes its business rows and a history row in one command; an answer or a survey answer
commits with its delivery to the waiting process or not at all.
"""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.engine import (
    AlreadyAnswered,
    InvalidData,
    NotFound,
    StepFailed,
    add_comment,
    answer_question,
    deploy,
    record_feedback,
    start_process,
    waiting_of,
)
from app.extensions import db
from app.models import (
    Attachment,
    Comment,
    Feedback,
    FeedbackRequest,
    HistoryEvent,
    HumanTask,
    OutboxMessage,
    Ticket,
)
from tests.diagrams import bpmn, user_task_process
from tests.factories import make_customer_user, make_user


def waits_for(message: str, variable: str, condition: str = "True") -> bytes:
    """start -> catch `message` into `variable` -> `condition`? -> user task `follow_up` | end."""
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="wait" name="Answer received">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:messageEventDefinition id="wait_definition" messageRef="{message}">
      <bpmn:extensionElements><spiffworkflow:messageVariable>{variable}</spiffworkflow:messageVariable>
      </bpmn:extensionElements>
    </bpmn:messageEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:exclusiveGateway id="check" default="f_end"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f_task</bpmn:outgoing><bpmn:outgoing>f_end</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="follow_up" name="Follow up"><bpmn:incoming>f_task</bpmn:incoming>
    <bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f_end</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="check"/>
  <bpmn:sequenceFlow id="f_task" sourceRef="check" targetRef="follow_up">
    <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f_end" sourceRef="check" targetRef="done"/>
  <bpmn:sequenceFlow id="f4" sourceRef="follow_up" targetRef="done"/>""",
        "waits",
        extra=f'<bpmn:message id="{message}" name="{message}"/>\n',
    )


@pytest.fixture
def jane(app):
    user, customer = make_customer_user("jane")
    return user, customer


def _open(customer, diagram: bytes | None = None, key: str = "waits"):
    deploy(diagram if diagram is not None else waits_for("customer_reply", "reply"))
    ticket, instance = start_process(key, customer.id, "Broken zip", {})
    return ticket, instance


def _history(ticket_id: int, kind: str | None = None) -> list[HistoryEvent]:
    query = db.select(HistoryEvent).where(HistoryEvent.ticket_id == ticket_id)
    if kind is not None:
        query = query.where(HistoryEvent.kind == kind)
    return db.session.execute(query.order_by(HistoryEvent.id)).scalars().all()


def _all(model) -> list:
    return db.session.execute(db.select(model).order_by(model.id)).scalars().all()


# ------------------------------------------------------------------------------------ add_comment
def test_a_customers_comment_is_kept_marks_the_ticket_updated_and_is_recorded(jane, clock):
    user, customer = jane
    ticket, _ = _open(customer, user_task_process(), "tiny")
    clock.shift(timedelta(minutes=5))
    comment_id = add_comment(ticket.id, user, "Any news?")
    comment = db.session.get(Comment, comment_id)
    assert (comment.ticket_id, comment.author_id, comment.author_kind, comment.body) == (
        ticket.id,
        user.id,
        "customer",
        "Any news?",
    )
    assert db.session.get(Ticket, ticket.id).updated_at == comment.created_at
    [added] = _history(ticket.id, "comment_added")
    assert (added.actor, added.data) == ("jane", {"comment_id": comment_id, "author_kind": "customer"})
    assert _all(OutboxMessage) == []


def test_an_agent_writing_to_the_customer_adds_the_comment_and_the_email_together(jane):
    user, customer = jane
    agent = make_user("alice", "agent", teams=("support",))
    ticket, _ = _open(customer, user_task_process(), "tiny")
    comment_id = add_comment(ticket.id, agent, "We sent a new one.", notify_customer=True)
    assert db.session.get(Comment, comment_id).author_kind == "agent"
    [mail] = _all(OutboxMessage)
    assert (mail.recipient, mail.subject, mail.body) == (
        customer.email,
        f"[Ticket #{ticket.id}] Broken zip",
        f"We sent a new one.\n\n{agent.name}",
    )
    [added] = _history(ticket.id, "comment_added")
    assert added.actor == "alice" and added.data["outbox_id"] == mail.id


def test_an_empty_comment_or_a_missing_ticket_stores_nothing(jane):
    user, customer = jane
    ticket, _ = _open(customer, user_task_process(), "tiny")
    with pytest.raises(InvalidData):
        add_comment(ticket.id, user, "   ")
    with pytest.raises(NotFound):
        add_comment(ticket.id + 99, user, "Hello", notify_customer=True)
    assert _all(Comment) == [] and _all(OutboxMessage) == []
    assert _history(ticket.id, "comment_added") == []


# -------------------------------------------------------------------------------- answer_question
def test_an_answer_is_kept_with_its_files_and_delivered_in_one_command(jane):
    user, customer = jane
    ticket, instance = _open(customer)
    element = answer_question(
        ticket.id,
        user,
        "Left shoe",
        message="customer_reply",
        attachments=[("shoe.jpg", "image/jpeg", b"JPEG")],
    )
    assert element == "wait"
    [comment] = _all(Comment)
    [file] = _all(Attachment)
    assert (comment.body, comment.author_kind) == ("Left shoe", "customer")
    assert (file.ticket_id, file.filename, file.content_type, file.data, file.uploaded_by_id) == (
        ticket.id,
        "shoe.jpg",
        "image/jpeg",
        b"JPEG",
        user.id,
    )
    kinds = [row.kind for row in _history(ticket.id)]
    assert kinds.index("comment_added") < kinds.index("message_delivered")
    [delivered] = _history(ticket.id, "message_delivered")
    assert delivered.actor == "jane"
    assert delivered.data["payload"] == {"message": "Left shoe", "attachments": ["shoe.jpg"]}
    [added] = _history(ticket.id, "comment_added")
    assert added.data == {
        "comment_id": comment.id,
        "author_kind": "customer",
        "answers": "customer_reply",
        "attachments": [file.id],
    }
    assert waiting_of(instance.id)["messages"] == []


def test_an_answer_nothing_waits_for_stores_nothing(jane):
    user, customer = jane
    ticket, _ = _open(customer, user_task_process(), "tiny")
    with pytest.raises(NotFound):
        answer_question(
            ticket.id, user, "Hello?", message="customer_reply", attachments=[("a.txt", "text/plain", b"a")]
        )
    assert _all(Comment) == [] and _all(Attachment) == []
    assert _history(ticket.id, "comment_added") == []


def test_an_answer_the_process_fails_on_stores_no_comment_and_nothing_is_delivered(jane):
    user, customer = jane
    ticket, instance = _open(customer, waits_for("customer_reply", "reply", 'reply["no_such_field"] == 1'))
    with pytest.raises(StepFailed):
        answer_question(
            ticket.id, user, "Here", message="customer_reply", attachments=[("a.txt", "text/plain", b"a")]
        )
    assert _all(Comment) == [] and _all(Attachment) == []
    assert [
        row.kind for row in _history(ticket.id) if row.kind in ("comment_added", "message_delivered")
    ] == []
    assert [m["element_id"] for m in waiting_of(instance.id)["messages"]] == ["wait"]


def test_an_empty_file_is_refused_before_anything_is_stored(jane):
    user, customer = jane
    ticket, instance = _open(customer)
    with pytest.raises(InvalidData):
        answer_question(
            ticket.id, user, "Here", message="customer_reply", attachments=[("a.txt", "text/plain", b"")]
        )
    assert _all(Comment) == []
    assert [m["element_id"] for m in waiting_of(instance.id)["messages"]] == ["wait"]


# -------------------------------------------------------------------------------- record_feedback
def _survey(ticket) -> FeedbackRequest:
    request = FeedbackRequest(ticket_id=ticket.id, nonce="n", expires_at=utcnow() + timedelta(days=7))
    db.session.add(request)
    db.session.commit()
    return request


def test_feedback_is_stored_recorded_and_delivered_in_one_command(jane):
    _, customer = jane
    ticket, instance = _open(
        customer, waits_for("feedback_received", "feedback", 'feedback["rating"] &lt;= 2')
    )
    request = _survey(ticket)
    feedback_id = record_feedback(request.id, 1, "Too slow")
    feedback = db.session.get(Feedback, feedback_id)
    assert (feedback.ticket_id, feedback.rating, feedback.comment) == (ticket.id, 1, "Too slow")
    assert db.session.get(FeedbackRequest, request.id).used_at is not None
    [recorded] = _history(ticket.id, "feedback_recorded")
    assert (recorded.actor, recorded.data) == (
        "customer",
        {"feedback_id": feedback_id, "request_id": request.id, "rating": 1},
    )
    [delivered] = _history(ticket.id, "message_delivered")
    assert delivered.data["payload"] == {"rating": 1, "comment": "Too slow"}
    assert db.session.execute(db.select(HumanTask.name)).scalars().all() == ["follow_up"]


def test_feedback_is_kept_when_nothing_waits_for_it(jane):
    _, customer = jane
    ticket, _ = _open(customer, user_task_process(), "tiny")
    request = _survey(ticket)
    record_feedback(request.id, 5, "")
    assert [(f.rating, f.comment) for f in _all(Feedback)] == [(5, None)]
    assert len(_history(ticket.id, "feedback_recorded")) == 1
    assert _history(ticket.id, "message_delivered") == []


def test_feedback_the_process_fails_on_stores_nothing_and_leaves_the_request_open(jane):
    _, customer = jane
    ticket, instance = _open(customer, waits_for("feedback_received", "feedback", 'feedback["nope"] == 1'))
    request = _survey(ticket)
    with pytest.raises(StepFailed):
        record_feedback(request.id, 2, None)
    assert _all(Feedback) == []
    assert db.session.get(FeedbackRequest, request.id).used_at is None
    assert _history(ticket.id, "feedback_recorded") == []
    assert [m["element_id"] for m in waiting_of(instance.id)["messages"]] == ["wait"]


def test_a_survey_request_is_answered_once(jane):
    _, customer = jane
    ticket, _ = _open(customer, user_task_process(), "tiny")
    request = _survey(ticket)
    record_feedback(request.id, 4, None)
    with pytest.raises(AlreadyAnswered):
        record_feedback(request.id, 1, "changed my mind")
    assert [f.rating for f in _all(Feedback)] == [4]
    assert len(_history(ticket.id, "feedback_recorded")) == 1


@pytest.mark.parametrize("rating", [0, 6, True, "5", 2.5])
def test_a_rating_outside_one_to_five_is_refused(jane, rating):
    _, customer = jane
    ticket, _ = _open(customer, user_task_process(), "tiny")
    with pytest.raises(InvalidData):
        record_feedback(_survey(ticket).id, rating, None)
    assert _all(Feedback) == []
