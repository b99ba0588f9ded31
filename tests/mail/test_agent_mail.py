"""Agents' e-mails: a task assigned to them and a customer writing on their ticket, for those who chose them.

The mails go through the outbox (plain text + HTML, `[#123]` subject, thread headers) and are
sent by the worker's send step to a real SMTP server on loopback.
"""

import pytest

from app.engine import add_comment, reassign_task
from app.extensions import db
from app.mail import send_due_mail
from app.models import HumanTask, OutboxMessage, User
from tests.factories import csrf_of, deploy_shipped, login, make_customer_user, make_user
from tests.mail.inbound_helpers import Desk, mail, send, start_gateway


@pytest.fixture
def desk(app):
    deploy_shipped("complaint")
    agent = make_user("alice", "agent", teams=("support", "customer-success"), password="pw")
    user, customer = make_customer_user("jane", name="Jane Doe")
    return Desk(agent=agent, user=user, customer=customer)


def _opt_in(user: User, wanted: bool = True) -> None:
    db.session.get(User, user.id).mail_notifications = wanted
    db.session.commit()


def _mails_to(address: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            db.select(OutboxMessage).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id)
        ).scalars()
    )


def test_an_agent_who_chose_it_gets_a_mail_when_a_task_is_assigned(app, desk, smtp_server, clock):
    _opt_in(desk.agent)
    ticket = desk.open()
    [task] = desk.tasks(ticket)
    assert task.assignee_id == desk.agent.id
    send_due_mail()
    [message] = [m for m in smtp_server.messages if "alice@example.com" in str(m["To"])]
    assert message["Subject"] == f"[#{ticket.id}] Task assigned to you: {task.title}"
    assert message["Auto-Submitted"] == "auto-generated"  # no auto-responder answers it
    assert message["In-Reply-To"] == f"<ticket-{ticket.id}@ticketflow.example>"
    text = message.get_body(("plain",)).get_content()
    assert f"/inbox/tasks/{task.id}" in text and "you chose them in your settings" in text
    assert "/inbox/tasks/" in message.get_body(("html",)).get_content()


def test_an_agent_who_did_not_choose_it_gets_no_mail(app, desk):
    ticket = desk.open()
    assert desk.tasks(ticket)[0].assignee_id == desk.agent.id
    assert _mails_to("alice@example.com") == []


def test_a_reassigned_task_mails_its_new_holder(app, desk):
    bob = make_user("bob", "agent", teams=("support",))
    lead = make_user("lena", "agent", teams=("support",), lead=True)
    _opt_in(bob)
    ticket = desk.open()
    [task] = desk.tasks(ticket)
    reassign_task(task.id, lead, bob)
    [row] = _mails_to("bob@example.com")
    assert row.payload == {"agent": "task_assigned", "user_id": bob.id, "task_id": task.id}
    assert "assigned by lena" in row.body


def test_the_agent_hears_when_the_customer_writes_in_the_portal_or_by_mail(app, desk):
    _opt_in(desk.agent)
    ticket = desk.open()
    db.session.execute(db.delete(OutboxMessage))
    db.session.commit()
    add_comment(ticket.id, desk.user, "The courier came back and shouted.")
    gateway = start_gateway(app)
    try:
        send(gateway, mail(subject=f"Re: [#{ticket.id}] Rude courier", body="And he kicked the box."))
    finally:
        gateway.stop()
    rows = _mails_to("alice@example.com")
    assert [r.payload["agent"] for r in rows] == ["customer_wrote", "customer_wrote"]
    assert "The courier came back and shouted." in rows[0].body and "(in the portal)" in rows[0].body
    assert "And he kicked the box." in rows[1].body and "(by e-mail)" in rows[1].body


def test_an_agent_chooses_the_mails_on_their_settings_page(client, desk):
    login(client, "alice")
    page = client.get("/account/settings").get_data(as_text=True)
    assert 'name="mail_notifications"' in page and "alice@example.com" in page
    client.post(
        "/account/settings", data={"timezone": "", "mail_notifications": "on", "csrf_token": csrf_of(page)}
    )
    db.session.expire_all()
    assert db.session.get(User, desk.agent.id).mail_notifications is True
    page = client.get("/account/settings").get_data(as_text=True)
    client.post("/account/settings", data={"timezone": "", "csrf_token": csrf_of(page)})
    db.session.expire_all()
    assert db.session.get(User, desk.agent.id).mail_notifications is False


def test_an_admin_sets_the_preference_in_the_user_form(client, desk):
    make_user("root", "admin", password="pw")
    login(client, "root")
    page = client.get(f"/admin/users/{desk.agent.id}").get_data(as_text=True)
    assert 'name="mail_notifications"' in page
    client.post(
        f"/admin/users/{desk.agent.id}",
        data={
            "name": "Alice",
            "email": "alice@example.com",
            "role": "agent",
            "teams": ["support"],
            "capacity": "20",
            "active": "on",
            "mail_notifications": "on",
            "csrf_token": csrf_of(page),
        },
    )
    db.session.expire_all()
    assert db.session.get(User, desk.agent.id).mail_notifications is True
    assert db.session.execute(db.select(HumanTask)).first() is None  # nothing else happened
