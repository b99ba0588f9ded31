"""The satisfaction survey over HTTP: follow the e-mailed link, rate, and the waiting process hears it.

The tiny diagram below stands in for the shipped workflows' feedback loop: it asks for
feedback (feedback.request), waits for `feedback_received`, and opens a follow-up task in the
customer-success lane when the rating is 1 or 2.
"""

import re
import threading
from datetime import timedelta

import pytest

from app.clock import utcnow
from app.engine import deploy, start_process
from app.extensions import db
from app.handlers import HANDLERS, HandlerContext
from app.handlers.feedback import survey_token
from app.models import Feedback, FeedbackRequest, HistoryEvent, HumanTask, OutboxMessage, ProcessInstance
from app.worker import drain
from tests.diagrams import bpmn, user_task_process
from tests.factories import csrf_of, make_customer, make_user, token_for

LINK = re.compile(r"http://127\.0\.0\.1:5000(/survey/\S+)")


def feedback_loop(condition: str = 'feedback["rating"] &lt;= 2') -> bytes:
    """start -> ask (feedback.request) -> wait for `feedback_received` -> low rating? -> follow_up."""
    return bpmn(
        f"""
  <bpmn:laneSet id="lanes">
    <bpmn:lane id="lane_cs" name="customer-success"><bpmn:flowNodeRef>follow_up</bpmn:flowNodeRef></bpmn:lane>
  </bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="ask" name="Ask for feedback"><bpmn:extensionElements>
    <spiffworkflow:serviceTaskOperator id="feedback.request" resultVariable="feedback_request">
      <spiffworkflow:parameters/></spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:intermediateCatchEvent id="wait_feedback" name="Feedback received">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:messageEventDefinition id="wait_feedback_definition" messageRef="feedback_received">
      <bpmn:extensionElements><spiffworkflow:messageVariable>feedback</spiffworkflow:messageVariable>
      </bpmn:extensionElements>
    </bpmn:messageEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:exclusiveGateway id="low_rating" default="f_fine"><bpmn:incoming>f3</bpmn:incoming>
    <bpmn:outgoing>f_low</bpmn:outgoing><bpmn:outgoing>f_fine</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="follow_up" name="Follow up on a low rating">
    <bpmn:incoming>f_low</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f_fine</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
  <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="wait_feedback"/>
  <bpmn:sequenceFlow id="f3" sourceRef="wait_feedback" targetRef="low_rating"/>
  <bpmn:sequenceFlow id="f_low" sourceRef="low_rating" targetRef="follow_up">
    <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f_fine" sourceRef="low_rating" targetRef="done"/>
  <bpmn:sequenceFlow id="f5" sourceRef="follow_up" targetRef="done"/>""",
        "feedback_loop",
        extra='<bpmn:message id="feedback_received" name="feedback_received"/>\n',
    )


@pytest.fixture
def resolved(app, clock):
    """A resolved ticket whose process has e-mailed the survey link and waits for the answer."""
    deploy(feedback_loop())
    make_user("carol", "agent", teams=("customer-success",))
    ticket, instance = start_process("feedback_loop", make_customer().id, "Zipper broke after a week", {})
    drain()
    return ticket, instance


def _link() -> str:
    """The survey path from the newest e-mail in the outbox."""
    mail = db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id.desc())).scalars().first()
    return LINK.search(mail.body).group(1)


def _answer(client, link: str, **form):
    page = client.get(link)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(link, data={"csrf_token": csrf_of(page.get_data(as_text=True)), **form})


def _feedback() -> list[Feedback]:
    return db.session.execute(db.select(Feedback)).scalars().all()


def _waits_for_feedback(instance) -> bool:
    db.session.expire_all()
    return (
        db.session.get(ProcessInstance, instance.id).status == "running"
        and not db.session.execute(db.select(HumanTask).where(HumanTask.instance_id == instance.id)).first()
    )


def test_link_shows_the_ticket_subject_and_a_rating_form(client, resolved):
    page = client.get(_link())
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Zipper broke after a week" in html
    assert [int(v) for v in re.findall(r'name="rating" value="(\d)"', html)] == [1, 2, 3, 4, 5]
    assert 'name="comment"' in html and 'name="csrf_token"' in html


def test_answer_is_stored_with_the_ticket_and_delivered_to_the_waiting_process(client, resolved):
    ticket, instance = resolved
    answer = _answer(client, _link(), rating="4", comment="Quick and friendly")
    assert answer.status_code == 200
    assert "Thank you" in answer.get_data(as_text=True)
    [feedback] = _feedback()
    assert (feedback.ticket_id, feedback.rating, feedback.comment) == (ticket.id, 4, "Quick and friendly")
    assert db.session.get(FeedbackRequest, feedback.feedback_request_id).used_at == utcnow()
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
    delivered = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "message_delivered")
    ).scalar_one()
    assert delivered.actor == "customer"
    assert delivered.data["payload"] == {"rating": 4, "comment": "Quick and friendly"}
    recorded = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "feedback_recorded")
    ).scalar_one()
    assert (recorded.ticket_id, recorded.actor, recorded.data["rating"]) == (ticket.id, "customer", 4)


def test_rating_of_one_opens_a_follow_up_task_for_customer_success(client, resolved):
    ticket, _ = resolved
    assert _answer(client, _link(), rating="1", comment="Still broken").status_code == 200
    [task] = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalars().all()
    assert (task.name, task.team) == ("follow_up", "customer-success")


def test_rating_of_three_needs_no_follow_up(client, resolved):
    ticket, _ = resolved
    assert _answer(client, _link(), rating="3").status_code == 200
    assert db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).first() is None
    assert _feedback()[0].comment is None


def test_api_ticket_carries_the_feedback(client, resolved):
    ticket, _ = resolved
    headers = {"Authorization": f"Bearer {token_for(make_user('max', 'manager'))}"}
    assert client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).json["feedback"] is None
    _answer(client, _link(), rating="2", comment="Slow")
    body = client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).json
    assert body["feedback"] == {"rating": 2, "comment": "Slow", "created_at": utcnow().isoformat()}


def test_answer_is_kept_when_no_process_waits_for_it(app, client):
    deploy(user_task_process())  # an older diagram without the feedback loop
    ticket, instance = start_process("tiny", make_customer().id, "Parcel lost", {})
    HANDLERS["feedback.request"]({}, HandlerContext(ticket.id, instance.id, "manual-1", 1))
    db.session.commit()
    answer = _answer(client, _link(), rating="5")
    assert answer.status_code == 200 and "Thank you" in answer.get_data(as_text=True)
    assert [(f.ticket_id, f.rating) for f in _feedback()] == [(ticket.id, 5)]


def test_failed_delivery_stores_nothing_and_the_link_still_works(app, client, clock):
    deploy(feedback_loop('feedback["no_such_field"] &lt;= 2'))
    ticket, instance = start_process("feedback_loop", make_customer().id, "Zipper", {})
    drain()
    link = _link()
    answer = _answer(client, link, rating="1")
    assert answer.status_code == 500
    assert "We could not save your answer" in answer.get_data(as_text=True)
    assert _feedback() == []
    assert db.session.execute(db.select(FeedbackRequest)).scalar_one().used_at is None
    assert (
        db.session.execute(db.select(HistoryEvent).where(HistoryEvent.kind == "feedback_recorded")).first()
        is None
    )
    assert _waits_for_feedback(instance)
    assert client.get(link).status_code == 200


@pytest.mark.parametrize("rating", ["", "0", "6", "abc", "2.5"])
def test_invalid_rating_is_refused_inline_and_keeps_the_comment(client, resolved, rating):
    _, instance = resolved
    answer = _answer(client, _link(), rating=rating, comment="My words")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Choose a rating from 1 (very dissatisfied) to 5 (very satisfied)." in html
    assert ">My words</textarea>" in html
    assert _feedback() == [] and _waits_for_feedback(instance)


def test_too_long_comment_is_refused_inline(client, resolved):
    answer = _answer(client, _link(), rating="4", comment="x" * 4001)
    assert answer.status_code == 422
    assert "Keep the comment under 4000 characters (it has 4001)." in answer.get_data(as_text=True)
    assert _feedback() == []


def test_tampered_link_shows_a_readable_page_and_stores_nothing(client, resolved):
    _, instance = resolved
    link = _link()
    csrf = csrf_of(client.get(link).get_data(as_text=True))
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    for answer in (client.get(tampered), client.post(tampered, data={"csrf_token": csrf, "rating": "5"})):
        assert answer.status_code == 400
        assert "This link does not work" in answer.get_data(as_text=True)
    assert _feedback() == [] and _waits_for_feedback(instance)


def test_link_naming_another_request_is_refused(client, resolved):
    request = db.session.execute(db.select(FeedbackRequest)).scalar_one()
    forged = FeedbackRequest(
        id=request.id + 1, ticket_id=request.ticket_id, nonce="guess", created_at=request.created_at
    )
    answer = client.get(f"/survey/{survey_token(forged)}")
    assert answer.status_code == 410
    assert "This survey is no longer available" in answer.get_data(as_text=True)


def test_expired_link_shows_a_readable_page_and_stores_nothing(client, resolved, clock):
    _, instance = resolved
    link = _link()
    csrf = csrf_of(client.get(link).get_data(as_text=True))
    clock.shift(timedelta(days=14, seconds=1))
    for answer in (client.get(link), client.post(link, data={"csrf_token": csrf, "rating": "5"})):
        assert answer.status_code == 410
        assert "This survey has closed" in answer.get_data(as_text=True)
    assert _feedback() == [] and _waits_for_feedback(instance)


def test_link_expires_by_its_signature_age_too(app, client, resolved, clock):
    link = _link()
    app.config["FEEDBACK_LINK_DAYS"] = 1  # the row still says 14 days; the signature is too old
    clock.shift(timedelta(days=2))
    answer = client.get(link)
    assert answer.status_code == 410
    assert "Survey links work for 1 day and this one has expired" in answer.get_data(as_text=True)


def test_reused_link_shows_a_readable_page_and_stores_nothing_more(client, resolved):
    link = _link()
    csrf = csrf_of(client.get(link).get_data(as_text=True))
    assert client.post(link, data={"csrf_token": csrf, "rating": "4"}).status_code == 200
    for answer in (client.get(link), client.post(link, data={"csrf_token": csrf, "rating": "1"})):
        assert answer.status_code == 410
        assert "You have already answered" in answer.get_data(as_text=True)
    assert [f.rating for f in _feedback()] == [4]


def test_two_simultaneous_answers_store_one_and_deliver_once(app, resolved):
    link = _link()
    browsers = [app.test_client(), app.test_client()]
    tokens = [csrf_of(b.get(link).get_data(as_text=True)) for b in browsers]  # both pages are open
    db.session.commit()
    barrier, statuses = threading.Barrier(2), []

    def send(browser, token, rating):
        barrier.wait()
        statuses.append(browser.post(link, data={"csrf_token": token, "rating": rating}).status_code)

    threads = [
        threading.Thread(target=send, args=(b, t, r)) for b, t, r in zip(browsers, tokens, "15", strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 410]
    db.session.expire_all()
    assert len(_feedback()) == 1
    assert (
        db.session.execute(
            db.select(db.func.count(HistoryEvent.id)).where(HistoryEvent.kind == "message_delivered")
        ).scalar()
        == 1
    )


def test_answer_without_form_token_is_refused_readably(client, resolved):
    _, instance = resolved
    answer = client.post(_link(), data={"rating": "5"})
    assert answer.status_code == 400
    assert "Please open the link again" in answer.get_data(as_text=True)
    assert _feedback() == [] and _waits_for_feedback(instance)


def test_reminder_link_is_the_same_and_answering_it_answers_the_survey(client, resolved):
    ticket, instance = resolved
    first = _link()
    HANDLERS["feedback.request"]({"reminder": True}, HandlerContext(ticket.id, instance.id, "reminder-1", 1))
    db.session.commit()
    assert _link() == first
    assert _answer(client, first, rating="5").status_code == 200
    assert len(_feedback()) == 1
