"""Deadlines inside the shipped workflows: customer reminders and no-response closing, the complaint
escalations, and the feedback loop, on the real engine, database and worker with the clock moved
across weekends (the `clock` fixture starts on Monday 2026-11-23 09:00 UTC).

The default business calendar is Monday to Friday, 09:00-17:00 UTC.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from app import sla
from app.engine import NotFound, deliver_message, deploy, instance_of_ticket, start_process, waiting_of
from app.extensions import db
from app.handlers import HANDLERS, HandlerContext, HandlerError
from app.models import HistoryEvent, HumanTask, OutboxMessage, PriorityChange, Ticket, User
from app.worker import drain
from tests.diagrams import bpmn
from tests.engine.conftest import RETURN_START
from tests.factories import make_customer, make_user

THURSDAY_10 = datetime(2026, 11, 26, 10, tzinfo=UTC)
FRIDAY_15 = datetime(2026, 11, 27, 15, tzinfo=UTC)
COMPLAINT = {"description": "The courier threw the parcel over the fence.", "severity": "high"}


def _at(clock, moment: datetime) -> None:
    """Move the clock to `moment` (forward only) and let the worker do what is due."""
    clock.move_to(moment)
    drain()


def _mails(ticket, to=None):
    query = db.select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id).order_by(OutboxMessage.id)
    if to is not None:
        query = query.where(OutboxMessage.recipient == to)
    return db.session.execute(query).scalars().all()


def _tasks(ticket):
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalars().all()


def _history(ticket, kind):
    return (
        db.session.execute(
            db.select(HistoryEvent)
            .where(HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == kind)
            .order_by(HistoryEvent.id)
        )
        .scalars()
        .all()
    )


def _asked_on_thursday(world, clock, ticket_type="return"):
    _at(clock, THURSDAY_10)
    if ticket_type == "return":
        ticket = world.open("return", RETURN_START)
        world.complete(
            ticket, "review_request", {"decision": "more_info", "question": "Photo of the damage?"}
        )
    else:
        ticket = world.open("credit", {"requested_amount": 500, "purpose": "Stock"})
        world.complete(ticket, "review_credit_data", {"data_complete": False, "missing_fields": "Tax id"})
    return ticket


# ---------------------------------------------------------------------------- the engine underneath
WAIT_FOR_REPLY_OR_DEADLINE = bpmn(
    """
  <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="set_deadline" name="Set deadline"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>deadline = {"at": "2026-11-25T09:00:00+00:00"}</bpmn:script>
  </bpmn:scriptTask>
  <bpmn:eventBasedGateway id="reply_or_deadline" name="Reply or deadline?"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:eventBasedGateway>
  <bpmn:intermediateCatchEvent id="replied" name="Replied"><bpmn:incoming>f3</bpmn:incoming>
    <bpmn:outgoing>f5</bpmn:outgoing>
    <bpmn:messageEventDefinition messageRef="customer_reply"><bpmn:extensionElements>
      <spiffworkflow:messageVariable>customer_reply</spiffworkflow:messageVariable>
    </bpmn:extensionElements></bpmn:messageEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:intermediateCatchEvent id="deadline_passed" name="Deadline passed"><bpmn:incoming>f4</bpmn:incoming>
    <bpmn:outgoing>f6</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDate>deadline["at"]</bpmn:timeDate></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="read_reply" name="Read reply"><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="chase" name="Chase"><bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f8</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="done_late"><bpmn:incoming>f8</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="set_deadline"/>
  <bpmn:sequenceFlow id="f2" sourceRef="set_deadline" targetRef="reply_or_deadline"/>
  <bpmn:sequenceFlow id="f3" sourceRef="reply_or_deadline" targetRef="replied"/>
  <bpmn:sequenceFlow id="f4" sourceRef="reply_or_deadline" targetRef="deadline_passed"/>
  <bpmn:sequenceFlow id="f5" sourceRef="replied" targetRef="read_reply"/>
  <bpmn:sequenceFlow id="f6" sourceRef="deadline_passed" targetRef="chase"/>
  <bpmn:sequenceFlow id="f7" sourceRef="read_reply" targetRef="done"/>
  <bpmn:sequenceFlow id="f8" sourceRef="chase" targetRef="done_late"/>""",
    "gated",
    extra='<bpmn:message id="customer_reply" name="customer_reply"/>\n',
)


def _gated(clock):
    deploy(WAIT_FOR_REPLY_OR_DEADLINE)
    ticket, _ = start_process("gated", make_customer().id, "Waiting", {})
    return ticket


def test_event_based_gateway_subscribes_to_its_message_and_its_timer_by_their_catch_events(app, clock):
    ticket = _gated(clock)
    waiting = waiting_of(instance_of_ticket(ticket.id).id)
    assert waiting["messages"] == [{"name": "customer_reply", "element_id": "replied"}]
    assert waiting["timers"] == [{"element_id": "deadline_passed", "due_at": "2026-11-25T09:00:00+00:00"}]


def test_message_behind_an_event_based_gateway_is_delivered_and_cancels_the_timer(app, clock):
    ticket = _gated(clock)
    assert deliver_message(ticket.id, "customer_reply", {"message": "Here"}, actor="customer") == "replied"
    assert [t.name for t in _tasks(ticket)] == ["read_reply"]
    assert drain() == 0 and db.session.execute(db.text("SELECT count(*) FROM timer")).scalar() == 0
    [delivered] = _history(ticket, "message_delivered")
    assert (delivered.element_id, delivered.element_name) == ("replied", "Replied")


def test_timer_behind_an_event_based_gateway_fires_and_ends_the_subscription(app, clock):
    ticket = _gated(clock)
    clock.shift(timedelta(days=2) - timedelta(minutes=1))
    assert drain() == 0
    clock.shift(timedelta(minutes=2))
    assert drain() == 1
    assert [t.name for t in _tasks(ticket)] == ["chase"]
    assert db.session.execute(db.text("SELECT count(*) FROM message_subscription")).scalar() == 0
    [fired] = _history(ticket, "timer_fired")
    assert (fired.element_id, fired.element_name) == ("deadline_passed", "Deadline passed")


# ---------------------------------------------------------------------------- waiting for the customer
def test_return_reminds_the_customer_after_2_business_days_across_the_weekend(world, clock):
    ticket = _asked_on_thursday(world, clock)
    assert len(_mails(ticket)) == 1  # the question
    _at(clock, datetime(2026, 11, 29, 23, tzinfo=UTC))  # Sunday night: 3 days, but 1 business day
    assert len(_mails(ticket)) == 1
    _at(clock, datetime(2026, 11, 30, 10, 1, tzinfo=UTC))  # Monday 10:01: 2 business days
    reminder = _mails(ticket)[-1]
    assert "Reminder" in reminder.subject and "Photo of the damage?" in reminder.body
    ticket = world.reload(ticket)
    assert ticket.status == "awaiting_customer" and not _tasks(ticket)
    assert world.waiting(ticket)["messages"] == [
        {"name": "customer_reply", "element_id": "reply_after_reminder"}
    ]


def test_return_closes_as_no_response_after_7_business_days_and_tells_the_customer(world, clock):
    ticket = _asked_on_thursday(world, clock)
    _at(clock, datetime(2026, 12, 7, 9, 59, tzinfo=UTC))  # Monday a week later, before 10:00
    assert world.reload(ticket).status == "awaiting_customer"
    _at(clock, datetime(2026, 12, 7, 10, 1, tzinfo=UTC))  # 7 business days after the question
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "no_response")
    closing = _mails(ticket)[-1]
    assert "is closed" in closing.subject and "have not heard from you" in closing.body
    assert len(_mails(ticket)) == 3  # question, reminder, closing notice
    assert world.waiting(ticket) == {"messages": [], "timers": []}  # no survey for an abandoned ticket


def test_reply_before_the_reminder_cancels_both_deadlines(world, clock):
    ticket = _asked_on_thursday(world, clock)
    _at(clock, datetime(2026, 11, 27, 12, tzinfo=UTC))
    world.reply(ticket, "Photo attached")
    assert world.reload(ticket).status == "in_progress"
    assert world.timers(ticket) == []
    assert [t.name for t in _tasks(ticket)] == ["review_request"]
    _at(clock, datetime(2026, 12, 14, 12, tzinfo=UTC))  # long after both deadlines
    assert world.reload(ticket).status == "in_progress" and len(_mails(ticket)) == 1


def test_reply_after_the_reminder_goes_back_to_review(world, clock):
    ticket = _asked_on_thursday(world, clock)
    _at(clock, datetime(2026, 12, 1, 9, tzinfo=UTC))
    world.reply(ticket, "Sorry, here it is")
    assert world.reload(ticket).status == "in_progress"
    assert "Sorry, here it is" in world.task(ticket).instructions
    assert world.timers(ticket) == []


def test_credit_request_missing_data_is_reminded_then_closed_as_no_response(world, clock):
    ticket = _asked_on_thursday(world, clock, "credit")
    assert world.reload(ticket).status == "missing_data"
    _at(clock, datetime(2026, 11, 30, 10, 1, tzinfo=UTC))
    assert "Tax id" in _mails(ticket)[-1].body
    _at(clock, datetime(2026, 12, 7, 10, 1, tzinfo=UTC))
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "no_response")


def test_reminder_skips_the_holidays_of_the_team_calendar(world, clock):
    sla.set_calendar(
        "returns",
        {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        holidays={date(2026, 11, 27): "Company day"},
    )
    db.session.commit()
    ticket = _asked_on_thursday(world, clock)
    _at(clock, datetime(2026, 11, 30, 10, 1, tzinfo=UTC))  # Monday is only the first business day
    assert len(_mails(ticket)) == 1
    _at(clock, datetime(2026, 12, 1, 10, 1, tzinfo=UTC))
    assert len(_mails(ticket)) == 2


def test_the_history_tells_the_reminder_story(world, clock):
    ticket = _asked_on_thursday(world, clock)
    _at(clock, datetime(2026, 11, 30, 10, 1, tzinfo=UTC))
    [fired] = _history(ticket, "timer_fired")
    assert (fired.element_id, fired.element_name) == ("reminder_due", "2 business days without reply")
    [reminded] = [row for row in _history(ticket, "service_completed") if row.element_id == "notify_reminder"]
    assert reminded.element_name == "Remind customer to answer" and reminded.at >= fired.at


# ---------------------------------------------------------------------------- complaint escalations
@pytest.fixture
def lead():
    return make_user("lena", "agent", teams=("support", "customer-success"), lead=True)


def test_complaint_without_first_response_in_time_is_escalated(world, clock, lead):
    _at(clock, FRIDAY_15)
    ticket = world.open("complaint", COMPLAINT)
    assert ticket.priority == "high"
    _at(clock, datetime(2026, 11, 30, 14, 59, tzinfo=UTC))  # 8 business hours end Monday 15:00
    assert [t.name for t in _tasks(ticket)] == ["initial_response"]
    _at(clock, datetime(2026, 11, 30, 15, 1, tzinfo=UTC))
    ticket = world.reload(ticket)
    assert ticket.priority == "urgent"
    [task] = _tasks(ticket)
    assert (task.name, task.team, task.priority) == ("lead_initial_response", "support", "urgent")
    assert "overdue" in task.instructions
    [to_lead] = _mails(ticket, to=lead.email)
    assert "first response overdue" in to_lead.subject and "urgent" in to_lead.body
    assert "team lead" in _mails(ticket, to=ticket.customer.email)[-1].body


def test_complaint_escalation_is_in_the_ticket_history(world, clock, lead):
    _at(clock, FRIDAY_15)
    ticket = world.open("complaint", COMPLAINT)
    _at(clock, datetime(2026, 11, 30, 15, 1, tzinfo=UTC))
    [fired] = _history(ticket, "timer_fired")
    assert (fired.element_id, fired.element_name) == ("first_response_overdue", "First response overdue")
    raised = _history(ticket, "priority_set")[-1]
    assert (
        raised.data["message"]
        == "priority raised from high to urgent: first response to the complaint overdue"
    )
    services = {row.element_id: row.data["result"] for row in _history(ticket, "service_completed")}
    assert services["raise_priority"] == {"priority": "urgent", "previous": "high", "changed": True}
    assert services["notify_support_lead"] == {"team": "support", "notified": ["lena"]}
    assert "notify_customer_escalated" in services


def test_the_lead_answers_and_the_complaint_goes_on_to_customer_success(world, clock, lead):
    _at(clock, FRIDAY_15)
    ticket = world.open("complaint", COMPLAINT)
    _at(clock, datetime(2026, 11, 30, 15, 1, tzinfo=UTC))
    assert world.task(ticket).assignee_id == lead.id  # assignToLead: the escalation goes to the lead
    world.complete(
        ticket, "lead_initial_response", {"response": "I am sorry, I take care of it myself."}, by=lead
    )
    assert "I take care of it myself" in _mails(ticket, to=ticket.customer.email)[-1].body
    assert world.task(ticket).name == "review_complaint"


def test_a_first_response_in_time_cancels_the_escalation(world, clock, lead):
    _at(clock, FRIDAY_15)
    ticket = world.open("complaint", COMPLAINT)
    world.complete(ticket, "initial_response", {"response": "We are looking into it."})
    _at(clock, datetime(2026, 12, 7, 9, tzinfo=UTC))
    ticket = world.reload(ticket)
    assert ticket.priority == "high"
    assert "first_response_overdue" not in {row.element_id for row in _history(ticket, "timer_fired")}
    assert not any("first response overdue" in mail.subject for mail in _mails(ticket))


def test_the_investigation_deadline_reminds_the_investigator_and_the_lead_without_taking_the_task(
    world, clock, lead
):
    _at(clock, FRIDAY_15)
    ticket = world.open("complaint", COMPLAINT)
    world.complete(ticket, "initial_response", {"response": "We are looking into it."})  # Friday 15:00
    review = world.task(ticket)
    assert review.name == "review_complaint"
    _at(clock, datetime(2026, 12, 1, 14, 59, tzinfo=UTC))  # 2 business days: Tuesday 15:00
    assert _mails(ticket, to=lead.email) == []
    _at(clock, datetime(2026, 12, 1, 15, 1, tzinfo=UTC))
    recipients = {mail.recipient for mail in _mails(ticket) if "investigation overdue" in mail.subject}
    assert lead.email in recipients
    if review.assignee_id is not None:  # whoever holds the task is told as well
        assert db.session.get(User, review.assignee_id).email in recipients
    assert world.task(ticket).id == review.id  # the investigation stays where it was


def test_raising_the_priority_twice_for_one_job_raises_it_once(world, lead):
    ticket = world.open("complaint", COMPLAINT)
    ctx = HandlerContext(ticket.id, 1, "1:0b7c5f2e-0000-4000-8000-000000000001", 1)
    first = HANDLERS["ticket.raise_priority"]({"reason": "test"}, ctx)
    db.session.commit()  # the handler's transaction commits; the engine may still fail to complete the job
    again = HANDLERS["ticket.raise_priority"]({"reason": "test"}, ctx)
    db.session.commit()
    assert first == again
    assert {k: first[k] for k in ("priority", "previous", "changed")} == {
        "priority": "urgent",
        "previous": "high",
        "changed": True,
    }
    assert world.reload(ticket).priority == "urgent"
    assert [(c.previous, c.priority) for c in db.session.execute(db.select(PriorityChange)).scalars()] == [
        ("high", "urgent")
    ]


def test_the_handler_returns_the_priority_change_and_writes_no_history(world):
    ticket = world.open("complaint", COMPLAINT)
    before = len(_history(ticket, "priority_set"))
    ctx = HandlerContext(ticket.id, 1, "1:0b7c5f2e-0000-4000-8000-000000000004", 1)
    result = HANDLERS["ticket.raise_priority"]({"reason": "late"}, ctx)
    db.session.commit()
    assert result["history"] == {
        "kind": "priority_set",
        "actor": "escalation",
        "element_id": "priority",
        "data": {
            "priority": "urgent",
            "previous": "high",
            "changed": True,
            "rule": "late",
            "message": "priority raised from high to urgent: late",
        },
    }
    assert len(_history(ticket, "priority_set")) == before


def test_urgent_stays_urgent_and_says_so(world):
    ticket = world.open("complaint", {**COMPLAINT, "severity": "critical"})
    ctx = HandlerContext(ticket.id, 1, "1:0b7c5f2e-0000-4000-8000-000000000002", 1)
    result = HANDLERS["ticket.raise_priority"]({}, ctx)
    assert result["changed"] is False
    assert result["history"]["data"]["message"].startswith("priority stays urgent")


def test_a_team_without_anybody_to_tell_is_an_error_not_silence(world):
    ticket = world.open("general", {"question": "?", "category": "delivery"})
    make_user("ghost", "agent", teams=("nobody-home",)).active = False
    db.session.commit()
    ctx = HandlerContext(ticket.id, 1, "1:0b7c5f2e-0000-4000-8000-000000000003", 1)
    with pytest.raises(HandlerError, match="nobody"):
        HANDLERS["escalation.notify_team"]({"team": "nobody-home", "subject": "s", "body": "b"}, ctx)


def test_business_days_need_a_whole_number(world):
    ticket = world.open("general", {"question": "?", "category": "delivery"})
    ctx = HandlerContext(ticket.id, 1, "1:x", 1)
    with pytest.raises(HandlerError, match="days"):
        HANDLERS["calendar.due"]({"days": "two", "team": "returns"}, ctx)


# ---------------------------------------------------------------------------- the feedback loop
def _answered_general(world, clock):
    _at(clock, THURSDAY_10)
    ticket = world.open("general", {"question": "Do you ship to Norway?", "category": "delivery"})
    world.complete(ticket, "answer_question", {"information_given": True, "answer": "Yes, in 3 days."})
    return ticket


def _surveys(ticket):
    return [mail for mail in _mails(ticket) if "How did we do?" in mail.subject]


def test_the_feedback_request_goes_out_a_day_after_the_ticket_closed(world, clock):
    ticket = _answered_general(world, clock)
    _at(clock, THURSDAY_10 + timedelta(hours=23, minutes=59))
    assert _surveys(ticket) == []
    _at(clock, THURSDAY_10 + timedelta(days=1, minutes=1))
    [survey] = _surveys(ticket)
    assert "/survey/" in survey.body and survey.recipient == ticket.customer.email
    assert world.waiting(ticket)["messages"] == [
        {"name": "feedback_received", "element_id": "feedback_arrived"}
    ]


def test_the_feedback_delay_is_configured_per_ticket_type(world, clock, app):
    app.config["FEEDBACK_DELAY"] = {**app.config["FEEDBACK_DELAY"], "general": "PT2H"}
    ticket = _answered_general(world, clock)
    _at(clock, THURSDAY_10 + timedelta(hours=2, minutes=1))
    assert len(_surveys(ticket)) == 1


def test_the_customer_is_reminded_once_after_3_days_without_an_answer(world, clock):
    ticket = _answered_general(world, clock)
    _at(clock, THURSDAY_10 + timedelta(days=1, minutes=1))
    _at(clock, THURSDAY_10 + timedelta(days=4))
    assert len(_surveys(ticket)) == 1
    _at(clock, THURSDAY_10 + timedelta(days=4, minutes=2))
    assert [mail.subject.startswith(f"[Ticket #{ticket.id}] Reminder") for mail in _surveys(ticket)] == [
        False,
        True,
    ]
    _at(clock, THURSDAY_10 + timedelta(days=11, minutes=3))  # the final wait ends the loop
    assert len(_surveys(ticket)) == 2
    assert world.waiting(ticket) == {"messages": [], "timers": []}
    assert (
        db.session.execute(
            db.text("SELECT status FROM process_instance WHERE ticket_id = :t"), {"t": ticket.id}
        ).scalar()
        == "completed"
    )


@pytest.mark.parametrize("rating", [1, 2])
def test_a_low_rating_opens_a_follow_up_for_customer_success(world, clock, rating):
    ticket = _answered_general(world, clock)
    _at(clock, THURSDAY_10 + timedelta(days=1, minutes=1))
    world.rate(ticket, rating, "Nobody read my question properly.")
    task = world.task(ticket)
    assert (task.name, task.team, task.form_name) == (
        "follow_up",
        "customer-success",
        "feedback_follow_up.json",
    )
    assert f"{rating} out of 5" in task.instructions and "Nobody read my question" in task.instructions
    assert world.timers(ticket) == []
    world.complete(
        ticket, "follow_up", {"contacted": True, "outcome": "resolved", "notes": "Called, sorted."}
    )
    assert world.waiting(ticket) == {"messages": [], "timers": []}


def test_a_high_rating_ends_the_instance(world, clock):
    ticket = _answered_general(world, clock)
    _at(clock, THURSDAY_10 + timedelta(days=1, minutes=1))
    world.rate(ticket, 4, "Fine")
    assert _tasks(ticket) == []
    assert (
        db.session.execute(
            db.text("SELECT status FROM process_instance WHERE ticket_id = :t"), {"t": ticket.id}
        ).scalar()
        == "completed"
    )


def test_a_low_rating_after_the_reminder_opens_the_follow_up_too(world, clock):
    ticket = _answered_general(world, clock)
    _at(clock, THURSDAY_10 + timedelta(days=4, minutes=2))
    world.rate(ticket, 2)
    assert world.task(ticket).name == "follow_up"


def test_a_rejected_return_is_asked_for_feedback_too(world, clock):
    _at(clock, THURSDAY_10)
    ticket = world.open("return", RETURN_START)
    world.complete(ticket, "review_request", {"decision": "reject", "rejection_reason": "Worn shoes"})
    _at(clock, THURSDAY_10 + timedelta(days=1, minutes=1))
    assert len(_surveys(ticket)) == 1


def test_a_rating_without_a_survey_waiting_is_refused(world, clock):
    ticket = _answered_general(world, clock)
    with pytest.raises(NotFound):
        deliver_message(ticket.id, "feedback_received", {"rating": 5, "comment": ""})
    assert db.session.get(Ticket, ticket.id).status == "closed"
