"""E-mail in: `flask mail-gateway`'s SMTP server on loopback, fed by a real SMTP client (smtplib).

A reply reaches the ticket it answers (delivered to the waiting process, or flagged to the team);
a new mail from a customer opens a ticket; an unknown sender is held for an admin; auto-replies
and bounces open nothing and are never answered; a message delivered twice counts once.
"""

import smtplib
from datetime import timedelta

import pytest

from app.engine import READ_TASK, add_comment, deploy, start_process, waiting_of
from app.extensions import db
from app.mail import claim_mail
from app.models import Attachment, Comment, Customer, HistoryEvent, InboundMail, OutboxMessage, Ticket
from tests.engine.test_comments import waits_for
from tests.factories import deploy_shipped, make_customer_user, make_user
from tests.mail.inbound_helpers import Desk, mail, outcomes, send, start_gateway


@pytest.fixture
def gateway(app):
    server = start_gateway(app)
    yield server
    server.stop()


@pytest.fixture
def desk(app):
    deploy_shipped()
    agent = make_user(
        "alice", "agent", teams=("returns", "credit", "support", "customer-success"), password="pw"
    )
    user, customer = make_customer_user("jane", name="Jane Doe")
    return Desk(agent=agent, user=user, customer=customer)


def _mailed_question(ticket, agent, text="Which colour was it?") -> str:
    """The agent writes to the customer; the worker's claim gives the mail its Message-ID."""
    add_comment(ticket.id, agent, text, notify_customer=True)
    claim_mail()
    return db.session.execute(
        db.select(OutboxMessage.message_id).where(OutboxMessage.ticket_id == ticket.id)
    ).scalar_one()


def _comments(ticket) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [
        (c.author_kind, c.body)
        for c in db.session.execute(
            db.select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
        ).scalars()
    ]


def test_a_reply_by_mail_resumes_the_waiting_ticket_it_answers(app, gateway, clock):
    user, customer = make_customer_user("jane")
    agent = make_user("alice", "agent", teams=("support",))
    deploy(waits_for("customer_reply", "reply"))
    first, first_instance = start_process("waits", customer.id, "Broken zip", {})
    second, second_instance = start_process("waits", customer.id, "Late parcel", {})
    _mailed_question(first, agent)
    answered = _mailed_question(second, agent)
    reply = mail(
        subject=f"Re: [#{second.id}] Late parcel",
        body="It was blue.\n\nOn Monday, Ticketflow wrote:\n> Which colour was it?",
        headers={"In-Reply-To": answered, "References": answered},
    )
    send(gateway, reply)
    assert waiting_of(second_instance.id)["messages"] == []  # resumed
    assert [m["name"] for m in waiting_of(first_instance.id)["messages"]] == ["customer_reply"]
    assert _comments(second)[-1] == ("customer", "It was blue.")  # the quoted mail is cut off
    assert outcomes() == [("delivered", second.id)]
    assert db.session.get(Ticket, second.id).customer_unread_since is None  # answered, not flagged


def test_a_subject_reference_counts_only_from_the_customers_own_address(app, gateway, desk):
    ticket = desk.open()
    send(
        gateway, mail(sender="mallory@evil.test", subject=f"Re: [#{ticket.id}] Rude courier", body="Close it")
    )
    assert [kind for kind, _ in _comments(ticket)].count("customer") == 0
    assert outcomes() == [("held", None)]  # an unknown sender, not a reply to the ticket
    send(gateway, mail(subject=f"Re: [#{ticket.id}] Rude courier", body="He was rude again."))
    assert _comments(ticket)[-1] == ("customer", "He was rude again.")
    assert outcomes()[-1] == ("flagged", ticket.id)


def test_a_mail_to_a_closed_ticket_flags_it_to_its_team(app, gateway, desk, clock):
    ticket = desk.closed_complaint()
    clock.shift(timedelta(days=15))  # past REOPEN_DAYS (14): it stays closed
    send(gateway, mail(subject=f"Re: [#{ticket.id}] Rude courier", body="It happened again."))
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.customer_unread_since is not None) == ("closed", True)
    [read] = [t for t in desk.tasks(ticket) if t.name == READ_TASK]
    assert read.team == "customer-success"  # the team that worked on it last
    assert outcomes() == [("flagged", ticket.id)]


def test_the_flag_shows_on_the_dashboards_list_and_ticket_page(app, gateway, desk, client):
    from tests.factories import login

    ticket = desk.closed_complaint()
    send(gateway, mail(subject=f"Re: [#{ticket.id}] Rude courier", body="It happened again."))
    make_user("max", "manager", password="pw")
    login(client, "max")
    listed = client.get("/dashboard/tickets").get_data(as_text=True)
    assert 'Rude courier</a> <span class="badge customer-wrote"' in listed
    assert "badge customer-wrote" in client.get(f"/dashboard/tickets/{ticket.id}").get_data(as_text=True)


def test_a_mail_to_a_lately_closed_ticket_reopens_it_as_the_portal_does(app, gateway, desk, clock):
    ticket = desk.closed_complaint()
    clock.shift(timedelta(days=3))
    send(gateway, mail(to=f"support+{ticket.id}@ticketflow.example", subject="One more thing"))
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.customer_unread_since is not None) == ("in_progress", True)


BOUNCE = b"""From: MAILER-DAEMON@mx.customer.test
To: support@ticketflow.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.customer.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

The mail could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test
Final-Recipient: rfc822; jane@example.com
Action: failed
Status: 5.1.1
--b--
"""


@pytest.mark.parametrize(
    "headers, mail_from",
    [
        ({"Auto-Submitted": "auto-replied"}, None),
        ({"Precedence": "bulk"}, None),
        ({"Precedence": "junk"}, None),
        ({}, ""),  # a null return path: a bounce
    ],
    ids=["auto-submitted", "precedence-bulk", "precedence-junk", "null-return-path"],
)
def test_an_auto_reply_opens_nothing_and_is_not_answered(app, gateway, desk, headers, mail_from):
    ticket = desk.open()
    db.session.execute(db.delete(OutboxMessage))
    send(
        gateway,
        mail(subject=f"Out of office: [#{ticket.id}] Rude courier", body="I am away.", headers=headers),
        mail_from=mail_from,
    )
    assert db.session.execute(db.select(db.func.count()).select_from(Ticket)).scalar() == 1
    assert [kind for kind, _ in _comments(ticket)].count("customer") == 0
    assert db.session.execute(db.select(db.func.count()).select_from(OutboxMessage)).scalar() == 0
    assert [o for o, _ in outcomes()] == ["dropped"]


def test_a_bounce_loops_nothing(app, gateway, desk):
    send(gateway, BOUNCE, mail_from="")
    send(gateway, BOUNCE.replace(b"bounce-1", b"bounce-2"), mail_from="MAILER-DAEMON@mx.customer.test")
    assert db.session.execute(db.select(db.func.count()).select_from(Ticket)).scalar() == 0
    assert db.session.execute(db.select(db.func.count()).select_from(OutboxMessage)).scalar() == 0
    rows = db.session.execute(db.select(InboundMail).order_by(InboundMail.id)).scalars().all()
    assert [(r.outcome, r.raw) for r in rows] == [("dropped", None), ("dropped", None)]
    assert "multipart/report" in rows[0].reason


def test_a_new_mail_from_a_known_customer_opens_a_general_ticket(app, gateway, desk):
    send(gateway, mail(subject="Where is my invoice?", body="I cannot find the invoice for order 1234."))
    ticket = db.session.execute(db.select(Ticket)).scalar_one()
    assert (ticket.type, ticket.subject, ticket.customer_id) == (
        "general",
        "Where is my invoice?",
        desk.customer.id,
    )
    assert ticket.data == {"question": "I cannot find the invoice for order 1234.", "category": "other"}
    assert outcomes() == [("opened", ticket.id)]
    assert (
        "mail_received"
        in db.session.execute(db.select(HistoryEvent.kind).where(HistoryEvent.ticket_id == ticket.id))
        .scalars()
        .all()
    )


def test_a_mail_from_an_unknown_sender_is_held_and_an_admin_opens_it(app, gateway, desk, client):
    from tests.factories import csrf_of, login

    send(gateway, mail(sender="Kim Lee <kim@newcomer.test>", subject="Do you ship to Norway?"))
    [held] = db.session.execute(db.select(InboundMail)).scalars().all()
    assert (held.outcome, held.sender, held.ticket_id) == ("held", "kim@newcomer.test", None)
    assert db.session.execute(db.select(db.func.count()).select_from(Ticket)).scalar() == 0
    make_user("root", "admin", password="pw")
    login(client, "root")
    page = client.get("/admin/held-mail").get_data(as_text=True)
    assert "kim@newcomer.test" in page and "Do you ship to Norway?" in page
    answer = client.post(f"/admin/held-mail/{held.id}/open", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 302
    ticket = db.session.execute(db.select(Ticket)).scalar_one()
    customer = db.session.get(Customer, ticket.customer_id)
    assert (customer.name, customer.email, ticket.type) == ("Kim Lee", "kim@newcomer.test", "general")
    assert outcomes() == [("opened", ticket.id)]
    assert (
        client.post(f"/admin/held-mail/{held.id}/discard", data={"csrf_token": csrf_of(page)}).status_code
        == 409
    )


def test_a_held_mail_can_be_discarded(app, gateway, desk, client):
    from tests.factories import csrf_of, login

    send(gateway, mail(sender="spam@bulk.test", subject="Cheap watches"))
    make_user("root", "admin", password="pw")
    login(client, "root")
    page = client.get("/admin/held-mail").get_data(as_text=True)
    [held] = db.session.execute(db.select(InboundMail)).scalars().all()
    client.post(f"/admin/held-mail/{held.id}/discard", data={"csrf_token": csrf_of(page)})
    db.session.expire_all()
    assert (held.outcome, held.raw) == ("discarded", None)
    assert "Cheap watches" not in client.get("/admin/held-mail").get_data(as_text=True)


def test_an_unknown_sender_gets_a_profile_when_configured_to_create(app, gateway, desk):
    app.config["MAIL_UNKNOWN_SENDERS"] = "create"
    send(gateway, mail(sender="Kim Lee <Kim@Newcomer.test>", subject="Do you ship to Norway?"))
    ticket = db.session.execute(db.select(Ticket)).scalar_one()
    assert db.session.get(Customer, ticket.customer_id).email == "kim@newcomer.test"


def test_the_files_of_a_mail_are_stored_like_portal_attachments(app, gateway, desk):
    from app.models import MAX_ATTACHMENT_BYTES

    ticket = desk.open()
    too_big = b"x" * (MAX_ATTACHMENT_BYTES + 1)
    send(
        gateway,
        mail(
            subject=f"[#{ticket.id}] photos",
            body="Photos attached.",
            files=(("box.jpg", "image/jpeg", b"\xff\xd8jpeg"), ("video.mp4", "video/mp4", too_big)),
        ),
    )
    files = db.session.execute(db.select(Attachment).where(Attachment.ticket_id == ticket.id)).scalars().all()
    assert [(f.filename, f.content_type, f.data, f.uploaded_by_id) for f in files] == [
        ("box.jpg", "image/jpeg", b"\xff\xd8jpeg", desk.user.id)
    ]
    assert "video.mp4: the file is larger than 5 MiB" in _comments(ticket)[-1][1]


def test_a_message_delivered_twice_counts_once(app, gateway, desk):
    ticket = desk.open()
    message = mail(subject=f"[#{ticket.id}] again", body="Once only.")
    send(gateway, message)
    send(gateway, message)
    assert [body for kind, body in _comments(ticket) if kind == "customer"] == ["Once only."]
    assert outcomes() == [("flagged", ticket.id)]


def test_mail_for_another_address_is_refused_with_550(app, gateway):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(gateway, mail(to="postmaster@elsewhere.test"), to=["postmaster@elsewhere.test"])
    [(code, _)] = refused.value.recipients.values()
    assert code == 550


def test_a_message_over_the_size_limit_is_refused_with_552(app, gateway, desk):
    app.config["MAIL_GATEWAY_MAX_BYTES"] = 2048  # read when the server starts: a new one
    small = start_gateway(app)
    try:
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as refused:
            send(small, mail(body="x" * 5000))
        assert refused.value.smtp_code == 552
    finally:
        small.stop()
    assert outcomes() == []


def test_malformed_mail_never_crashes_the_gateway(app, gateway, desk):
    send(gateway, b"\x00\xff garbage without headers\r\n\r\n\xfe", mail_from="jane@example.com")
    send(
        gateway,
        b"From: =?bogus?Q?=ZZ?= <<<\r\nSubject: =?utf-8?B?!!!?=\r\nContent-Type: multipart/mixed\r\n\r\nno boundary",
    )
    send(gateway, mail(subject="Still here?", body="Yes."))
    assert outcomes()[-1][0] == "opened"


def test_the_development_worker_runs_the_gateway_too(app, desk):
    from app.worker import Worker

    app.config.update(MAIL_GATEWAY_EMBEDDED=True, MAIL_GATEWAY_PORT=0)
    worker = Worker(app)
    worker.start(paused=True)
    try:
        gateway = app.extensions["mail_gateway"]
        send(gateway, mail(subject="Where is my invoice?", body="Order 1234."))
        assert [o for o, _ in outcomes()] == ["opened"]
    finally:
        worker.shutdown()
    assert "mail_gateway" not in app.extensions


def test_flask_mail_gateway_is_a_command(runner):
    result = runner.invoke(args=["mail-gateway", "--help"])
    assert result.exit_code == 0 and "MAIL_GATEWAY_PORT" in result.output


MAIL_TYPE_DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="mail_type_definitions"
  name="Type of a mailed ticket" namespace="https://ticketflow.example/dmn">
  <decision id="mail_type" name="Type of a mailed ticket">
    <decisionTable id="mail_type_table" hitPolicy="FIRST">
      <input id="in_rude" label="Mentions rudeness">
        <inputExpression id="in_rude_expr" typeRef="boolean"><text>"rude" in body</text></inputExpression>
      </input>
      <output id="out_type" label="Type" name="type" typeRef="string" />
      <rule id="mail_type_rule_1">
        <description>a complaint</description>
        <inputEntry id="mail_type_rule_1_rude"><text>True</text></inputEntry>
        <outputEntry id="mail_type_rule_1_type"><text>"complaint"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_the_mail_type_decision_chooses_the_type_of_a_mailed_ticket(app, gateway, desk):
    deploy(MAIL_TYPE_DMN, actor="test")
    send(gateway, mail(subject="Your driver", body="The driver was rude to me."))
    send(gateway, mail(subject="Opening hours", body="When are you open?"))
    tickets = db.session.execute(db.select(Ticket).order_by(Ticket.id)).scalars().all()
    assert [(t.type, t.subject) for t in tickets] == [
        ("complaint", "Your driver"),
        ("general", "Opening hours"),
    ]
    assert tickets[0].data == {"description": "The driver was rude to me.", "severity": "medium"}


def test_a_huge_ticket_number_in_the_subject_is_no_reference(app, gateway, desk):
    send(gateway, mail(subject="[#99999999999999] Hello", to="support+99999999999999@ticketflow.example"))
    assert [o for o, _ in outcomes()] == ["opened"]  # a new ticket, not a failure on the id's size


def test_a_reply_the_process_fails_on_is_flagged_instead(app, gateway, clock):
    _, customer = make_customer_user("jane")
    deploy(waits_for("customer_reply", "reply", condition='reply["missing"] == 1'))
    ticket, instance = start_process("waits", customer.id, "Broken zip", {})
    send(gateway, mail(subject=f"Re: [#{ticket.id}] Broken zip", body="Here it is."))
    assert [m["name"] for m in waiting_of(instance.id)["messages"]] == ["customer_reply"]  # still waits
    assert _comments(ticket)[-1] == ("customer", "Here it is.")
    assert db.session.get(Ticket, ticket.id).customer_unread_since is not None
    assert outcomes() == [("flagged", ticket.id)]


def test_a_new_mail_no_type_can_take_is_held_with_the_reason(app, gateway, desk):
    app.config["MAIL_DEFAULT_TYPE"] = "return"  # its start form asks for an order: a mail cannot give one
    send(gateway, mail(subject="Hello", body="Just a question."))
    [row] = db.session.execute(db.select(InboundMail)).scalars().all()
    assert (row.outcome, row.ticket_id) == ("held", None)
    assert row.reason.startswith("no ticket could be opened") and row.raw
    assert db.session.execute(db.select(db.func.count()).select_from(Ticket)).scalar() == 0


def test_an_agent_who_answers_the_customer_clears_the_flag(app, gateway, desk):
    ticket = desk.open()
    send(gateway, mail(subject=f"Re: [#{ticket.id}] Rude courier", body="Any news?"))
    assert db.session.get(Ticket, ticket.id).customer_unread_since is not None
    add_comment(ticket.id, desk.agent, "We spoke to the courier company.", notify_customer=True)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).customer_unread_since is None
    assert [t.name for t in desk.tasks(ticket) if t.name == READ_TASK] == []
