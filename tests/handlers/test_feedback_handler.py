"""feedback.request: a signed, expiring survey link e-mailed once per job; reminders re-send it."""

import re
from datetime import timedelta

import pytest

from app.clock import utcnow
from app.engine import deploy, start_process
from app.extensions import db
from app.handlers import HANDLERS, HandlerContext, HandlerError
from app.models import FeedbackRequest, HistoryEvent, Job, OutboxMessage
from app.worker import drain
from tests.diagrams import bpmn, service_task_process, user_task_process
from tests.factories import csrf_of, make_customer

LINK = re.compile(r"http://127\.0\.0\.1:5000(/survey/[A-Za-z0-9_.\-]+)")
REMINDER = '<spiffworkflow:parameter id="reminder" type="bool" value="True"/>'


def _ticket():
    """A ticket whose process waits on a user task (the handler is then called like a worker would)."""
    deploy(user_task_process())
    ticket, instance = start_process("tiny", make_customer().id, "Broken zipper", {})
    return ticket, instance


def _call(ticket, instance, key: str, **params) -> dict:
    result = HANDLERS["feedback.request"](params, HandlerContext(ticket.id, instance.id, key, 1))
    db.session.commit()
    return result


def _mails() -> list[OutboxMessage]:
    return db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()


def _requests() -> list[FeedbackRequest]:
    return db.session.execute(db.select(FeedbackRequest).order_by(FeedbackRequest.id)).scalars().all()


def test_job_creates_a_request_and_emails_the_customer_a_working_link(app, client, clock):
    deploy(service_task_process("feedback.request"))
    ticket, _ = start_process("svc", make_customer().id, "Broken zipper", {})
    drain()
    [request] = _requests()
    assert (request.ticket_id, request.used_at) == (ticket.id, None)
    assert request.expires_at == utcnow() + timedelta(days=14)
    assert len(request.nonce) >= 32
    [mail] = _mails()
    assert (mail.kind, mail.recipient, mail.ticket_id) == ("email", "jane@example.com", ticket.id)
    assert mail.subject == f"[Ticket #{ticket.id}] How did we do?"
    assert "Broken zipper" in mail.body and "until 07 December 2026" in mail.body
    page = client.get(LINK.search(mail.body).group(1))
    assert page.status_code == 200
    assert "Broken zipper" in page.get_data(as_text=True)


def test_the_request_runs_inline_and_its_result_names_the_request(app):
    deploy(service_task_process("feedback.request"))
    ticket, _ = start_process("svc", make_customer().id, "Broken zipper", {})
    assert db.session.execute(db.select(Job)).first() is None  # no job: it ran in the start's command
    [request] = _requests()
    assert _mails()[0].payload == {"feedback_request_id": request.id, "reminder": False}
    completed = db.session.execute(
        db.select(HistoryEvent.data).where(
            HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "service_completed"
        )
    ).scalar_one()
    assert completed["inline"] is True
    assert completed["result"] == {"feedback_request_id": request.id, "reminder": False, "sent": True}


def test_link_lifetime_follows_the_feedback_link_days_setting(app, clock):
    app.config["FEEDBACK_LINK_DAYS"] = 3
    ticket, instance = _ticket()
    _call(ticket, instance, "job-1")
    assert _requests()[0].expires_at == utcnow() + timedelta(days=3)


def test_link_points_at_the_configured_base_url(app):
    app.config["BASE_URL"] = "https://help.example.com/"
    ticket, instance = _ticket()
    _call(ticket, instance, "job-1")
    assert "https://help.example.com/survey/" in _mails()[0].body


def test_a_request_run_again_under_its_key_does_not_send_twice(app):
    # As a job (when its inline run failed) the handler may run again after its rows committed.
    ticket, instance = _ticket()
    first = _call(ticket, instance, "job-1")
    again = _call(ticket, instance, "job-1")
    assert again == {**first, "sent": True}
    assert len(_mails()) == 1 and len(_requests()) == 1


def test_reminder_reuses_the_open_request_and_its_link(app, clock):
    ticket, instance = _ticket()
    first = _call(ticket, instance, "job-1")
    clock.shift(timedelta(days=3))
    second = _call(ticket, instance, "job-2", reminder=True)
    assert second == {"feedback_request_id": first["feedback_request_id"], "reminder": True, "sent": True}
    assert len(_requests()) == 1
    mail, reminder = _mails()
    assert reminder.subject == f"[Ticket #{ticket.id}] Reminder: How did we do?"
    assert LINK.search(reminder.body).group(1) == LINK.search(mail.body).group(1)


def _ask_then_remind() -> bytes:
    """start -> service task `ask` (feedback.request) -> `remind` (reminder=True) -> end."""

    def task(task_id: str, incoming: str, outgoing: str, params: str = "") -> str:
        return f"""
  <bpmn:serviceTask id="{task_id}"><bpmn:extensionElements>
    <spiffworkflow:serviceTaskOperator id="feedback.request" resultVariable="{task_id}_result">
      <spiffworkflow:parameters>{params}</spiffworkflow:parameters>
    </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
    <bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>
  </bpmn:serviceTask>"""

    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  {task("ask", "f1", "f2")}{task("remind", "f2", "f3", REMINDER)}
  <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
  <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="remind"/>
  <bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="done"/>""",
        "ask_remind",
    )


def test_reminder_job_reuses_the_request_of_the_first_job(app):
    deploy(_ask_then_remind())
    start_process("ask_remind", make_customer().id, "Broken zipper", {})
    drain()
    [request] = _requests()
    mail, reminder = _mails()
    assert (mail.payload, reminder.payload) == (
        {"feedback_request_id": request.id, "reminder": False},
        {"feedback_request_id": request.id, "reminder": True},
    )


def test_reminder_after_the_link_expired_sends_a_fresh_link(app, clock):
    ticket, instance = _ticket()
    first = _call(ticket, instance, "job-1")
    clock.shift(timedelta(days=15))
    second = _call(ticket, instance, "job-2", reminder=True)
    assert second["feedback_request_id"] != first["feedback_request_id"]
    assert _requests()[1].expires_at == utcnow() + timedelta(days=14)


def test_no_reminder_once_the_customer_answered_and_the_answer_is_returned(app, client):
    ticket, instance = _ticket()
    first = _call(ticket, instance, "job-1")
    link = LINK.search(_mails()[0].body).group(1)
    token = csrf_of(client.get(link).get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token, "rating": "2", "comment": "Slow"}).status_code == 200
    second = _call(ticket, instance, "job-2", reminder=True)
    assert second == {
        "feedback_request_id": first["feedback_request_id"],
        "reminder": True,
        "sent": False,
        "feedback": {"rating": 2, "comment": "Slow"},
    }
    assert len(_mails()) == 1


def test_a_new_request_without_reminder_gets_its_own_link(app):
    ticket, instance = _ticket()
    first = _call(ticket, instance, "job-1")
    second = _call(ticket, instance, "job-2")
    assert second["feedback_request_id"] != first["feedback_request_id"]
    assert LINK.search(_mails()[0].body).group(1) != LINK.search(_mails()[1].body).group(1)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_reminder_parameter_must_be_true_or_false(app, value):
    ticket, instance = _ticket()
    with pytest.raises(HandlerError, match="'reminder' must be true or false"):
        _call(ticket, instance, "job-1", reminder=value)
    assert _mails() == [] and _requests() == []
