"""Events without a task of their own: feedback received (a command) and an SLA breach (the worker's sweep)."""

import json
from datetime import timedelta

from app.clock import utcnow
from app.engine import deploy, record_feedback, start_process
from app.extensions import db
from app.models import FeedbackRequest, WebhookDelivery
from app.webhooks import deliver_due_webhooks, enqueue_sla_breaches
from tests.diagrams import user_task_process
from tests.factories import make_customer_user
from tests.webhooks.conftest import subscribe


def _ticket():
    _, customer = make_customer_user("jane")
    deploy(user_task_process())
    ticket, _ = start_process("tiny", customer.id, "Broken", {})
    return ticket


def test_a_survey_answer_is_delivered_as_feedback_received(app, receiver, clock):
    subscribe(receiver.url, events=["feedback.received"])
    ticket = _ticket()
    request = FeedbackRequest(ticket_id=ticket.id, nonce="n", expires_at=utcnow() + timedelta(days=7))
    db.session.add(request)
    db.session.commit()
    feedback_id = record_feedback(request.id, 4, "quick", actor="jane")
    assert deliver_due_webhooks() == 1
    [body] = [json.loads(r["body"]) for r in receiver.requests]
    assert body["event"] == "feedback.received"
    assert body["data"]["feedback"] == {"id": feedback_id, "rating": 4}
    assert body["data"]["ticket"]["id"] == ticket.id and body["data"]["actor"] == "jane"


def test_a_breached_sla_is_announced_once_per_ticket(app, receiver, clock):
    subscribe(receiver.url, events=["ticket.sla_breached"])
    ticket = _ticket()
    assert enqueue_sla_breaches() == 0, "not yet due"
    clock.shift(ticket.sla_due_at - utcnow() + timedelta(minutes=1))
    assert enqueue_sla_breaches() == 1
    assert enqueue_sla_breaches() == 0, "once per ticket"
    assert deliver_due_webhooks() == 1
    [body] = [json.loads(r["body"]) for r in receiver.requests]
    assert body["event"] == "ticket.sla_breached" and body["data"]["ticket"]["id"] == ticket.id
    assert body["occurred_at"] == body["data"]["ticket"]["sla_due_at"]


def test_no_breach_is_looked_for_without_a_subscription_to_it(app, clock):
    subscribe("https://93.184.216.34/x", events=["ticket.opened"])
    ticket = _ticket()
    clock.shift(ticket.sla_due_at - utcnow() + timedelta(minutes=1))
    assert enqueue_sla_breaches() == 0
    assert [d.event for d in db.session.execute(db.select(WebhookDelivery)).scalars()] == ["ticket.opened"]
