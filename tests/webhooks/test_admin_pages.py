"""/admin/webhooks: admins subscribe URLs, see the secret once, rotate it, edit, delete, send a delivery again.

Everyone else gets a 404 (the URL-map walk in tests/web/test_ownership.py covers the id routes
too); every form needs its CSRF token.
"""

import pytest

from app.engine import deploy, start_process
from app.extensions import db
from app.models import WebhookDelivery, WebhookSubscription
from app.webhooks import deliver_due_webhooks
from tests.diagrams import user_task_process
from tests.factories import csrf_of, login, make_customer_user, make_user


@pytest.fixture
def admin(client):
    make_user("root", "admin", password="pw")
    login(client, "root")
    return csrf_of(client.get("/admin/webhooks/new").get_data(as_text=True))


def _create(client, token, url, events=("ticket.opened",)):
    return client.post(
        "/admin/webhooks/new",
        data={"csrf_token": token, "url": url, "events": list(events), "active": "on", "description": "CRM"},
    )


def _open_ticket():
    _, customer = make_customer_user("jane")
    deploy(user_task_process())
    return start_process("tiny", customer.id, "Broken", {})[0]


def test_the_secret_is_shown_once_at_creation_and_again_only_when_rotated(app, client, admin, receiver):
    answer = _create(client, admin, receiver.url)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    row = db.session.execute(db.select(WebhookSubscription)).scalar_one()
    assert row.secret.startswith("whsec_") and row.secret in answer.get_data(as_text=True)
    assert (row.url, row.events, row.active, row.description) == (
        receiver.url,
        ["ticket.opened"],
        True,
        "CRM",
    )
    page = client.get(f"/admin/webhooks/{row.id}").get_data(as_text=True)
    assert row.secret not in page and receiver.url in page
    assert row.secret not in client.get("/admin/webhooks").get_data(as_text=True)
    old = row.secret
    rotated = client.post(f"/admin/webhooks/{row.id}/rotate", data={"csrf_token": admin})
    db.session.expire_all()
    assert row.secret != old and row.secret in rotated.get_data(as_text=True)


def test_a_subscription_needs_an_event_and_a_valid_url(app, client, admin):
    answer = client.post(
        "/admin/webhooks/new", data={"csrf_token": admin, "url": "ftp://x.test/", "active": "on"}
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "url: only http:// and https:// URLs receive webhooks" in page
    assert "events: choose at least one event" in page
    bogus = client.post(
        "/admin/webhooks/new",
        data={"csrf_token": admin, "url": "https://93.184.216.34/", "events": ["ticket.deleted"]},
    )
    assert bogus.status_code == 422 and "events: unknown event ticket.deleted" in bogus.get_data(as_text=True)
    assert db.session.execute(db.select(WebhookSubscription)).first() is None


def test_an_edited_subscription_changes_events_and_inactive_gets_nothing(app, client, admin, receiver):
    _create(client, admin, receiver.url)
    row = db.session.execute(db.select(WebhookSubscription)).scalar_one()
    answer = client.post(
        f"/admin/webhooks/{row.id}",
        data={"csrf_token": admin, "url": receiver.url, "events": ["task.completed", "ticket.opened"]},
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert (row.events, row.active) == (["ticket.opened", "task.completed"], False)
    _open_ticket()
    assert db.session.execute(db.select(WebhookDelivery)).first() is None
    refused = client.post(f"/admin/webhooks/{row.id}", data={"csrf_token": admin, "url": "http://10.0.0.1/"})
    assert refused.status_code == 422 and "url: 10.0.0.1 is a private address" in refused.get_data(
        as_text=True
    )


def test_the_deliveries_show_code_time_and_error_and_a_failed_one_is_sent_again(
    app, client, admin, receiver, clock
):
    _create(client, admin, receiver.url)
    receiver.statuses = [410]
    ticket = _open_ticket()
    deliver_due_webhooks()
    row = db.session.execute(db.select(WebhookDelivery)).scalar_one()
    page = client.get(f"/admin/webhooks/{row.subscription_id}?state=failed").get_data(as_text=True)
    assert "HTTP 410: receiver says no" in page and f"#{ticket.id}" in page and " ms</td>" in page
    assert "Send again" in page
    assert (
        client.post(f"/admin/webhooks/deliveries/{row.id}/resend", data={"csrf_token": admin}).status_code
        == 302
    )
    assert deliver_due_webhooks() == 1
    db.session.expire_all()
    assert (row.state, row.attempts, row.status_code) == ("sent", 1, 200)
    assert [r["headers"]["X-Ticketflow-Delivery"] for r in receiver.requests] == [str(row.id)] * 2
    assert client.post("/admin/webhooks/deliveries/999/resend", data={"csrf_token": admin}).status_code == 404
    assert client.get(f"/admin/webhooks/{row.subscription_id}?state=lost").status_code == 422


def test_a_deleted_subscription_takes_its_deliveries(app, client, admin, receiver):
    _create(client, admin, receiver.url)
    _open_ticket()
    row = db.session.execute(db.select(WebhookSubscription)).scalar_one()
    assert client.post(f"/admin/webhooks/{row.id}/delete", data={"csrf_token": admin}).status_code == 302
    assert db.session.execute(db.select(WebhookSubscription)).first() is None
    assert db.session.execute(db.select(WebhookDelivery)).first() is None
    assert deliver_due_webhooks() == 0


def test_every_form_needs_its_csrf_token(app, client, admin, receiver):
    _create(client, admin, receiver.url)
    row = db.session.execute(db.select(WebhookSubscription)).scalar_one()
    for url in (
        "/admin/webhooks/new",
        f"/admin/webhooks/{row.id}",
        f"/admin/webhooks/{row.id}/rotate",
        f"/admin/webhooks/{row.id}/delete",
    ):
        assert client.post(url, data={"csrf_token": "forged", "url": receiver.url}).status_code == 400, url
    assert db.session.execute(db.select(WebhookSubscription)).scalar_one().secret == row.secret


@pytest.mark.parametrize("role", ["agent", "lead", "manager", "analyst", "customer"])
def test_the_webhook_pages_are_for_admins_only(app, client, role):
    make_user("someone", role, teams=("support",) if role in ("agent", "lead") else (), password="pw")
    login(client, "someone")
    for url in ("/admin/webhooks", "/admin/webhooks/new", "/admin/webhooks/1"):
        assert client.get(url).status_code == 404, url
