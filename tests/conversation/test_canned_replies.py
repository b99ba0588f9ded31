"""Canned replies: admins and team leads keep them, agents get them rendered for the ticket."""

from app.extensions import db
from app.models import CannedReply
from tests.factories import csrf_of, login, make_user


def _create(client, **fields):
    page = client.get("/inbox/replies").get_data(as_text=True)
    return client.post("/inbox/replies", data={**fields, "csrf_token": csrf_of(page)})


def test_a_team_lead_keeps_a_reply_for_their_team(client, desk):
    login(client, "lena")
    sent = _create(
        client,
        name="Voucher sent",
        team_key="support",
        body="Dear {{ customer.name }},\n\nyour voucher for {{ ticket.reference }} is on its way.",
    )
    assert sent.status_code == 302
    assert db.session.execute(db.select(CannedReply.team_key)).scalar() == "support"


def test_a_lead_cannot_keep_replies_for_another_team_and_an_agent_none(app, client, desk):
    login(client, "lena")
    assert _create(client, name="Returns", team_key="returns", body="Hi").status_code == 422
    agent = app.test_client()
    login(agent, "alice")
    assert "Admins and team leads keep the canned replies" in agent.get("/inbox/replies").get_data(
        as_text=True
    )
    assert _create(agent, name="Mine", team_key="support", body="Hi").status_code == 404


def test_a_reply_whose_placeholders_do_not_render_is_refused_with_the_field_named(app, client, desk):
    make_user("root", "admin", password="pw")
    login(client, "root")
    refused = _create(
        client,
        name="Bomb",
        team_key="",
        body="{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
    )
    assert refused.status_code == 422 and "The placeholders cannot be used" in refused.get_data(as_text=True)
    unclosed = _create(client, name="Typo", team_key="", body="Dear {{ customer.name ")
    assert unclosed.status_code == 422 and "does not compile" in unclosed.get_data(as_text=True)
    assert db.session.execute(db.select(CannedReply)).first() is None


def test_the_agent_gets_the_reply_rendered_for_the_ticket_in_the_write_box(client, desk):
    db.session.add(
        CannedReply(
            name="Voucher sent",
            team_key="support",
            body="Dear {{ customer.name }}, about {{ ticket.reference }}",
        )
    )
    db.session.add(CannedReply(name="Returns only", team_key="returns", body="x"))
    db.session.commit()
    ticket = desk.open()
    login(client, "lena")  # support and customer-success: not returns
    html = client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)
    assert f'data-text="Dear Jane Doe, about #{ticket.id}"' in html and "Voucher sent" in html
    assert "Returns only" not in html
    assert "canned-replies.js" in html and "<script>" not in html  # CSP: no inline script


def test_an_admin_changes_and_deletes_a_reply(client, desk):
    make_user("root", "admin", password="pw")
    reply = CannedReply(name="Old", team_key=None, body="Hello")
    db.session.add(reply)
    db.session.commit()
    login(client, "root")
    page = client.get("/inbox/replies").get_data(as_text=True)
    changed = client.post(
        f"/inbox/replies/{reply.id}",
        data={
            "name": "New",
            "team_key": "",
            "body": "Hello {{ customer.name }}",
            "csrf_token": csrf_of(page),
        },
    )
    assert changed.status_code == 302
    db.session.expire_all()
    assert (db.session.get(CannedReply, reply.id).name, db.session.get(CannedReply, reply.id).team_key) == (
        "New",
        None,
    )
    client.post(f"/inbox/replies/{reply.id}/delete", data={"csrf_token": csrf_of(page)})
    db.session.expire_all()
    assert db.session.get(CannedReply, reply.id) is None
