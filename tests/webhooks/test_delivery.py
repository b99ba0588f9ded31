"""Webhook deliveries: written with the engine command, POSTed signed by the worker, retried, logged.

Against a real HTTP receiver on loopback (tests/webhooks/conftest.py).
"""

import json
import time
from datetime import timedelta

from app.clock import utcnow
from app.engine import claim_task, complete_task, deploy, start_process
from app.extensions import db
from app.models import HumanTask, WebhookDelivery, WebhookSubscription
from app.webhooks import claim_deliveries, deliver_due_webhooks, subscriptions_changed
from app.worker import Worker, drain
from tests.diagrams import service_task_process, user_task_process
from tests.factories import make_customer_user, make_user
from tests.webhooks.conftest import subscribe


def _open_ticket(process=None, key="tiny"):
    _, customer = make_customer_user("jane")
    deploy(process or user_task_process())
    ticket, _ = start_process(key, customer.id, "Broken zip", {})
    return ticket


def _deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return db.session.execute(db.select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars().all()


def test_no_delivery_is_written_when_nobody_subscribes(app, clock):
    subscribe("http://127.0.0.1:9/x", active=False)  # an inactive one does not count
    ticket = _open_ticket()
    agent = make_user("alice", "agent", teams=("support",))
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    complete_task(task.id, {}, agent)
    assert _deliveries() == []
    assert deliver_due_webhooks() == 0


def test_an_opened_ticket_is_delivered_once_signed_and_verified_by_the_receiver(app, receiver, clock):
    subscription = subscribe(receiver.url, events=["ticket.opened"])
    receiver.secret = subscription.secret
    ticket = _open_ticket()
    [row] = _deliveries()  # written by start_process, in its transaction; nothing sent yet
    assert (row.event, row.state, row.ticket_id, receiver.requests) == (
        "ticket.opened",
        "pending",
        ticket.id,
        [],
    )

    assert deliver_due_webhooks() == 1
    assert deliver_due_webhooks() == 0
    [request] = receiver.requests
    headers = request["headers"]
    assert request["path"] == "/hooks/ticketflow?src=test"
    assert headers["Host"] == receiver.url.split("/")[2]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Ticketflow-Event"] == "ticket.opened"
    assert headers["X-Ticketflow-Delivery"] == str(row.id)
    assert headers["X-Ticketflow-Signature"].startswith("sha256=")
    assert receiver.verified(request, now=time.time())
    assert not receiver.verified(request, now=time.time() + 600), "a replay after the tolerance is refused"
    tampered = {**request, "body": request["body"].replace(b"Broken", b"Fixed!")}
    assert not receiver.verified(tampered, now=time.time())
    body = json.loads(request["body"])
    assert body["event"] == "ticket.opened" and body["occurred_at"].endswith("Z")
    assert body["data"]["ticket"] == {
        "id": ticket.id,
        "reference": f"#{ticket.id}",
        "type": "tiny",
        "subject": "Broken zip",
        "status": "new",
        "resolution": None,
        "priority": ticket.priority,
        "customer_id": ticket.customer_id,
        "sla_due_at": body["data"]["ticket"]["sla_due_at"],
    }
    [row] = _deliveries()
    assert (row.state, row.attempts, row.status_code, row.last_error) == ("sent", 1, 200, None)
    assert row.response_ms is not None and row.delivered_at is not None


def test_a_receiver_failing_twice_gets_the_third_attempt_after_the_backoff(app, receiver, clock):
    app.config.update(WEBHOOK_RETRY_SECONDS=30, WEBHOOK_MAX_ATTEMPTS=5)
    receiver.secret = subscribe(receiver.url, events=["ticket.opened"]).secret
    receiver.statuses = [500, 500]
    _open_ticket()
    assert deliver_due_webhooks() == 1
    [row] = _deliveries()
    assert (row.state, row.attempts, row.status_code) == ("pending", 1, 500)
    assert row.last_error == "HTTP 500: receiver says no"
    assert deliver_due_webhooks() == 0, "not before the backoff"
    clock.shift(timedelta(seconds=30))
    assert deliver_due_webhooks() == 1
    [row] = _deliveries()
    assert (row.state, row.attempts) == ("pending", 2)
    clock.shift(timedelta(seconds=59))
    assert deliver_due_webhooks() == 0, "the second wait is twice the first"
    clock.shift(timedelta(seconds=1))
    assert deliver_due_webhooks() == 1
    [row] = _deliveries()
    assert (row.state, row.attempts, row.status_code, row.last_error) == ("sent", 3, 200, None)
    assert len(receiver.requests) == 3
    assert {r["headers"]["X-Ticketflow-Delivery"] for r in receiver.requests} == {str(row.id)}
    assert all(receiver.verified(r, now=time.time()) for r in receiver.requests)


def test_a_client_error_fails_at_once_and_429_is_tried_again(app, receiver, clock):
    subscribe(receiver.url, events=["ticket.opened"])
    receiver.statuses = [404, 429]
    ticket = _open_ticket()
    start_process("tiny", ticket.customer_id, "Again", {})
    assert deliver_due_webhooks() == 2
    first, second = _deliveries()
    assert (first.state, first.attempts, first.status_code) == ("failed", 1, 404)
    assert (second.state, second.attempts, second.status_code) == ("pending", 1, 429)
    assert second.next_attempt_at is not None


def test_the_last_attempt_leaves_the_delivery_failed_with_its_error(app, receiver, clock):
    app.config.update(WEBHOOK_MAX_ATTEMPTS=2, WEBHOOK_RETRY_SECONDS=10)
    subscribe(receiver.url, events=["ticket.opened"])
    receiver.statuses = [503, 502]
    _open_ticket()
    deliver_due_webhooks()
    clock.shift(timedelta(seconds=10))
    deliver_due_webhooks()
    [row] = _deliveries()
    assert (row.state, row.attempts, row.status_code, row.last_error) == (
        "failed",
        2,
        502,
        "HTTP 502: receiver says no",
    )


def test_a_redirect_is_not_followed(app, receiver, clock):
    subscribe(receiver.url, events=["ticket.opened"])
    receiver.statuses = [302]
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data"}
    _open_ticket()
    deliver_due_webhooks()
    [row] = _deliveries()
    assert (row.state, row.status_code) == ("failed", 302)
    assert "not followed" in row.last_error and "169.254.169.254" in row.last_error
    assert len(receiver.requests) == 1


def test_a_receiver_that_never_answers_times_out_and_is_tried_again(app, silent_port, clock):
    app.config.update(WEBHOOK_ALLOWED_HOSTS="127.0.0.1", WEBHOOK_TIMEOUT=0.2)
    subscribe(f"http://127.0.0.1:{silent_port}/", events=["ticket.opened"])
    _open_ticket()
    assert deliver_due_webhooks() == 1
    [row] = _deliveries()
    assert (row.state, row.attempts, row.status_code) == ("pending", 1, None)
    assert "timed out" in row.last_error or "Timeout" in row.last_error


def test_the_process_events_each_reach_the_subscription_that_names_them(app, receiver, clock):
    subscribe(receiver.url, events=["task.assigned", "task.completed", "ticket.status_changed"])
    other = subscribe(receiver.url, events=["ticket.opened"])
    ticket = _open_ticket()
    agent = make_user("alice", "agent", teams=("support",))
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    claim_task(task.id, agent)
    complete_task(task.id, {}, agent)
    while deliver_due_webhooks():
        pass
    assert receiver.events() == ["ticket.opened", "task.assigned", "task.completed", "ticket.status_changed"]
    by_event = {json.loads(r["body"])["event"]: json.loads(r["body"])["data"] for r in receiver.requests}
    assert by_event["task.assigned"]["task"] == {
        "id": task.id,
        "name": "do_it",
        "title": "Do it",
        "assignee": "alice",
        "how": "claimed",
    }
    assert by_event["task.completed"]["task"] == {"id": task.id, "name": "do_it", "title": "Do it"}
    assert by_event["task.completed"]["completed_by"] == "alice"
    assert by_event["ticket.status_changed"]["status"] == "closed"
    assert by_event["ticket.status_changed"]["ticket"]["status"] == "closed"
    assert [d.subscription_id for d in _deliveries()][0] == other.id


def test_a_status_set_by_the_process_and_an_incident_are_events(app, receiver, clock):
    subscribe(receiver.url, events=["ticket.status_changed", "incident.opened"])
    params = '<spiffworkflow:parameter id="status" type="str" value="\'in_progress\'"/>'
    ticket = _open_ticket(service_task_process("ticket.set_status", params), key="svc")
    drain()
    bad = '<spiffworkflow:parameter id="status" type="str" value="\'bogus\'"/>'
    deploy(service_task_process("ticket.set_status", bad, process_id="svc2"))
    start_process("svc2", ticket.customer_id, "Bad", {})
    drain()
    while deliver_due_webhooks():
        pass
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [(b["event"], b["data"].get("status")) for b in bodies] == [
        ("ticket.status_changed", "in_progress"),
        ("incident.opened", None),
    ]
    assert "bogus" in bodies[1]["data"]["incident"]["message"]


def test_a_failed_command_writes_no_delivery(app, receiver, clock):
    subscribe(receiver.url)
    _open_ticket()
    before = len(_deliveries())
    try:
        start_process("tiny", 999999, "No such customer", {})
    except Exception:
        pass
    assert len(_deliveries()) == before


def test_two_claims_never_hold_the_same_delivery_and_a_lapsed_lease_is_tried_again(app, receiver, clock):
    app.config.update(WEBHOOK_LEASE_SECONDS=60)
    subscribe(receiver.url, events=["ticket.opened"])
    _open_ticket()
    [first] = claim_deliveries()
    assert claim_deliveries() == []  # held by the first claim
    clock.shift(timedelta(seconds=61))  # its worker stopped: the lease ran out
    [second] = claim_deliveries()
    assert (second.id, second.attempt) == (first.id, 2)
    [row] = _deliveries()
    assert (row.state, row.attempts) == ("sending", 2)


def test_the_worker_sends_webhooks_on_a_job_of_its_own(app, receiver, clock):
    app.config["WEBHOOK_SWEEP_SECONDS"] = 2
    subscribe(receiver.url, events=["ticket.opened"])
    _open_ticket()
    worker = Worker(app)
    worker.start(paused=True)
    try:
        assert worker.scheduler.get_job("webhooks") is not None
        worker.send_webhooks()  # what the job runs
    finally:
        worker.shutdown()
    assert receiver.events() == ["ticket.opened"]


def test_the_engine_reads_the_subscriptions_from_a_copy_this_process_drops_when_it_changes_one(
    app, receiver, clock
):
    app.config.update(WEBHOOK_SUBSCRIPTION_CACHE_SECONDS=60)
    ticket = _open_ticket()  # no subscription yet: the copy holds none
    now = utcnow()
    db.session.add(  # as another process would: this one's copy does not know it yet
        WebhookSubscription(url=receiver.url, events=["ticket.opened"], secret="s", created_at=now)
    )
    db.session.commit()
    start_process("tiny", ticket.customer_id, "Unseen", {})
    assert _deliveries() == []
    subscriptions_changed()  # what the admin pages call after a change
    start_process("tiny", ticket.customer_id, "Seen", {})
    assert [d.event for d in _deliveries()] == ["ticket.opened"]
