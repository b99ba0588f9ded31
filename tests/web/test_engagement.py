"""A customer's engagement reaches their onboarding: a tracked link opened, a portal visit.

Both deliver the message `engagement` to the onboarding's event subprocess, which records it on
the customer (`last_engaged_at`); the verdict at the end of the period reads it
(tests/processes/test_service_flow_paths.py).
"""

from datetime import timedelta

import pytest

from app.engine import cancel_instance, start_process, waiting_of
from app.extensions import db
from app.handlers.engagement import tracking_token
from app.models import Customer, HistoryEvent
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, login, make_customer_user, make_user


@pytest.fixture
def onboarding(app, clock):
    """Jane, who just registered: her onboarding ticket waits for her account setup."""
    deploy_shipped("onboarding", "order", "return")
    make_user("erin", "agent", teams=("customer-success",), skills="success")
    user, customer = make_customer_user("jane")
    ticket, instance = start_process(
        "onboarding", customer.id, "Welcome", {"trigger": "registration"}, actor="shop"
    )
    drain()
    return ticket.id, instance.id, customer.id


def _engagements(ticket_id):
    return (
        db.session.execute(
            db.select(HistoryEvent.data)
            .where(HistoryEvent.ticket_id == ticket_id, HistoryEvent.kind == "message_delivered")
            .order_by(HistoryEvent.id)
        )
        .scalars()
        .all()
    )


def test_an_opened_tracking_link_is_recorded_and_leads_to_the_portal(client, onboarding):
    ticket_id, _, customer_id = onboarding
    response = client.get(f"/portal/e/{tracking_token(ticket_id)}?c=tutorial_1")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/")
    [delivered] = _engagements(ticket_id)
    assert delivered["name"] == "engagement"
    assert delivered["payload"] == {"kind": "link_opened", "campaign": "tutorial_1"}
    drain()  # the event subprocess records it on the customer
    assert db.session.get(Customer, customer_id).last_engaged_at is not None


def test_a_made_up_tracking_link_is_a_404(client, onboarding):
    ticket_id, _, _ = onboarding
    assert client.get(f"/portal/e/{tracking_token(ticket_id)}x").status_code == 404
    assert client.get("/portal/e/not-a-token").status_code == 404
    assert _engagements(ticket_id) == []


def test_a_portal_visit_counts_once_per_gap(client, clock, onboarding):
    ticket_id, _, customer_id = onboarding
    login(client, "jane")
    assert client.get("/portal/").status_code == 200
    drain()
    assert [d["payload"] for d in _engagements(ticket_id)] == [{"kind": "portal_visit"}]
    client.get("/portal/")
    assert len(_engagements(ticket_id)) == 1  # within PORTAL_VISIT_GAP_MINUTES of the last one
    clock.shift(timedelta(minutes=61))
    client.get("/portal/")
    assert len(_engagements(ticket_id)) == 2


def test_a_tracking_link_after_the_onboarding_ended_still_leads_to_the_portal(client, app, onboarding):
    ticket_id, instance_id, _ = onboarding
    cancel_instance(instance_id, actor="test")
    assert waiting_of(instance_id)["messages"] == []
    assert client.get(f"/portal/e/{tracking_token(ticket_id)}").status_code == 302
    assert _engagements(ticket_id) == []


def test_the_customer_waits_for_account_setup_in_the_portal_and_answers_there(client, onboarding):
    ticket_id, instance_id, _ = onboarding
    login(client, "jane")
    page = client.get(f"/portal/tickets/{ticket_id}").get_data(as_text=True)
    assert "please set it up by answering this message in the customer portal" in page
    assert {"name": "customer_reply", "element_id": "account_set_up"} in waiting_of(instance_id)["messages"]


def test_customers_cannot_open_onboarding_or_order_tickets_in_the_portal(client, onboarding):
    login(client, "jane")
    types = client.get("/portal/new").get_data(as_text=True)
    assert "/portal/new/return" in types
    assert "/portal/new/order" not in types and "/portal/new/onboarding" not in types
    assert client.get("/portal/new/order").status_code == 404
    assert client.get("/portal/new/onboarding").status_code == 404


def test_agents_see_the_verdict_on_the_customer_profile(client, onboarding):
    _, _, customer_id = onboarding
    customer = db.session.get(Customer, customer_id)
    customer.engagement = "not_engaged"
    db.session.commit()
    make_user("alice", "agent", teams=("returns",), password="pw")
    ticket, _ = start_process("return", customer_id, "Broken kettle", RETURN_START, actor="jane")
    drain()
    login(client, "alice")
    page = client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)
    assert "not engaged" in page
