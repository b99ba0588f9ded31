"""E-mail out: the worker's send step (app.mail.send_due_mail) against a real SMTP server.

Each outbox row is claimed with a lease, sent once outside any transaction, retried with backoff
on a temporary failure and left `failed`, with its error on /admin/outbox, after a permanent
failure or the last attempt.
"""

import threading
from datetime import timedelta

from app.clock import utcnow
from app.engine import add_comment, deploy, start_process
from app.extensions import db
from app.mail import claim_mail, send_due_mail
from app.models import OutboxMessage
from app.worker import Worker
from tests.diagrams import user_task_process
from tests.factories import csrf_of, login, make_customer_user, make_user


def _ticket_with_mail(body: str = "We sent a new one."):
    """A ticket of jane's and alice's e-mail to her on it (an outbox row)."""
    user, customer = make_customer_user("jane")
    agent = make_user("alice", "agent", teams=("support",))
    deploy(user_task_process())
    ticket, _ = start_process("tiny", customer.id, "Broken zip", {})
    add_comment(ticket.id, agent, body, notify_customer=True)
    return ticket, agent


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()


def test_a_mail_is_sent_once_with_its_thread_headers(app, smtp_server, clock):
    app.config.update(MAIL_FROM="Acme <help@acme.test>", MAIL_REPLY_TO="help@acme.test", COMPANY_NAME="Acme")
    app.config["COMPANY_COLOUR"] = "#aa3300"
    ticket, _ = _ticket_with_mail("Your parcel left. Track it: https://track.test/p?id=1&x=2")
    assert send_due_mail() == 1
    assert send_due_mail() == 0
    [message] = smtp_server.messages
    [row] = _rows()
    assert (row.state, row.attempts, row.sent_at is not None, row.last_error) == ("sent", 1, True, None)
    assert message["Message-ID"].strip() == row.message_id and row.message_id.endswith("@acme.test>")
    assert message["Subject"] == f"[#{ticket.id}] Broken zip"
    assert message["To"] == "jane@example.com" or message["To"].addresses[0].username == "jane"
    assert message["From"].addresses[0].display_name == "Acme"
    assert str(message["Reply-To"]) == f"help+{ticket.id}@acme.test"
    assert message["In-Reply-To"] == f"<ticket-{ticket.id}@acme.test>"
    assert message["Auto-Submitted"] is None  # an agent's own words
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Your parcel left." in text and "Acme" in text
    assert "#aa3300" in html and "Acme" in html
    assert '<a href="https://track.test/p?id=1&amp;x=2"' in html  # escaped, clickable


def test_the_next_mail_on_the_ticket_answers_the_previous_one(app, smtp_server, clock):
    ticket, agent = _ticket_with_mail()
    send_due_mail()
    add_comment(ticket.id, agent, "And a second note.", notify_customer=True)
    send_due_mail()
    first, second = smtp_server.messages
    root = f"<ticket-{ticket.id}@ticketflow.example>"
    first_id = first["Message-ID"].strip()
    assert second["In-Reply-To"].strip() == first_id
    assert second["References"].split() == [root, first_id]


def test_a_temporary_refusal_is_tried_again_after_the_backoff_and_sent_once(app, smtp_server, clock):
    app.config.update(MAIL_RETRY_SECONDS=60)
    _ticket_with_mail()
    smtp_server.refuse.append("451 4.3.0 Try again later")
    assert send_due_mail() == 1
    [row] = _rows()
    assert (row.state, row.attempts, row.sent_at) == ("pending", 1, None)
    assert "451" in row.last_error
    clock.shift(timedelta(seconds=59))
    assert send_due_mail() == 0  # not yet due
    clock.shift(timedelta(seconds=1))
    assert send_due_mail() == 1
    [row] = _rows()
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(smtp_server.messages) == 1


def test_a_permanent_refusal_fails_at_once(app, smtp_server, clock):
    _ticket_with_mail()
    smtp_server.refuse.append("550 5.1.1 No such user")
    send_due_mail()
    [row] = _rows()
    assert (row.state, row.attempts) == ("failed", 1)
    assert "550" in row.last_error
    clock.shift(timedelta(days=1))
    assert send_due_mail() == 0


def test_a_refused_connection_is_retried_with_backoff_then_fails_and_is_listed(
    app, client, closed_port, clock
):
    app.config.update(MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_SECONDS=60, MAIL_RETRY_MAX_SECONDS=100)
    _ticket_with_mail()
    assert send_due_mail() == 0  # tried; unreachable ends the round
    [row] = _rows()
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 1, utcnow() + timedelta(seconds=60))
    assert "ConnectionRefusedError" in row.last_error
    clock.shift(timedelta(seconds=60))
    assert send_due_mail() == 0  # tried; unreachable ends the round
    [row] = _rows()
    assert (row.state, row.attempts) == ("pending", 2)
    assert row.next_attempt_at - utcnow() == timedelta(seconds=100)  # doubled, capped
    clock.shift(timedelta(seconds=100))
    assert send_due_mail() == 0  # tried; unreachable ends the round
    [row] = _rows()
    assert (row.state, row.attempts) == ("failed", 3)
    clock.shift(timedelta(days=1))
    assert send_due_mail() == 0
    make_user("root", "admin", password="pw")
    login(client, "root")
    page = client.get("/admin/outbox?state=failed").get_data(as_text=True)
    assert "ConnectionRefusedError" in page and "Broken zip" in page
    assert "No e-mail in state sent" in client.get("/admin/outbox?state=sent").get_data(as_text=True)
    assert client.get("/admin/outbox?state=lost").status_code == 422
    token = csrf_of(page)
    assert client.post(f"/admin/outbox/{row.id}/retry", data={"csrf_token": token}).status_code == 302
    [row] = _rows()
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 0, None)
    assert row.last_error.startswith("sent again by root after: ConnectionRefusedError")
    assert client.post(f"/admin/outbox/{row.id}/retry", data={"csrf_token": token}).status_code == 303
    assert client.post("/admin/outbox/999/retry", data={"csrf_token": token}).status_code == 404


def test_the_outbox_page_is_for_admins_only(app, client):
    make_user("alice", "agent", teams=("support",), password="pw")
    login(client, "alice")
    assert client.get("/admin/outbox").status_code == 404  # the retry: tests/web/test_ownership.py


def test_a_claim_whose_lease_ran_out_is_never_sent_again(app, smtp_server, clock):
    _ticket_with_mail()
    [claim] = claim_mail(lease_seconds=60)  # a worker claimed it, then stopped before recording
    clock.shift(timedelta(seconds=61))
    assert send_due_mail() == 0
    [row] = _rows()
    assert (row.state, row.attempts) == ("failed", 1)
    assert "may have left" in row.last_error
    assert smtp_server.messages == [] and claim.attempt == 1


def test_two_workers_claiming_together_never_both_send(app, smtp_server):
    ticket, agent = _ticket_with_mail()
    for n in range(5):
        add_comment(ticket.id, agent, f"Note {n}", notify_customer=True)
    claimed, barrier = [], threading.Barrier(2)

    def worker():
        with app.app_context():
            barrier.wait()
            claimed.extend(mail.id for mail in claim_mail())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == [row.id for row in _rows()]  # each of the six by exactly one worker
    assert send_due_mail() == 0


def test_an_unreachable_server_stops_the_batch_and_the_rest_wait_uncounted(app, closed_port, clock):
    ticket, agent = _ticket_with_mail()
    add_comment(ticket.id, agent, "A second note.", notify_customer=True)
    assert send_due_mail() == 0  # one connection refused: no point trying the second now
    first, second = _rows()
    assert (first.state, first.attempts) == ("pending", 1) and first.next_attempt_at > utcnow()
    assert (second.state, second.attempts, second.lease_until) == ("pending", 0, None)


def test_the_worker_sends_the_outbox_on_a_job_of_its_own(app, smtp_server):
    _ticket_with_mail()
    worker = Worker(app)
    worker.start(paused=True)  # scheduled only: the test runs the mail job itself
    try:
        assert worker.scheduler.get_job("mail") is not None
        worker.send_mail()
    finally:
        worker.shutdown()
    assert [m["Subject"] for m in smtp_server.messages] == ["[#1] Broken zip"]
    assert _rows()[0].state == "sent"
