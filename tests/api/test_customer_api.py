"""A customer's API token: opens tickets for that customer only and sees only their tickets."""

import pytest

from app.extensions import db
from app.models import Ticket
from app.worker import drain
from tests.api.conftest import Api
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer_user, make_user, token_for


@pytest.fixture
def customers(app, client):
    """Jane and Omar, each with a customer token; the return process deployed."""
    deploy_shipped("return")
    jane_user, jane = make_customer_user("jane")
    omar_user, omar = make_customer_user("omar")
    return {
        "jane": (Api(client, token_for(jane_user)), jane),
        "omar": (Api(client, token_for(omar_user)), omar),
    }


def _open(api, **body):
    return api.post(
        "/api/v1/tickets", json={"type": "return", "subject": "Broken shoes", "data": RETURN_START, **body}
    )


def test_a_customer_opens_a_ticket_for_themselves_without_a_customer_id(customers):
    api, jane = customers["jane"]
    answer = _open(api)
    assert answer.status_code == 201, answer.json
    assert db.session.get(Ticket, answer.json["id"]).customer_id == jane.id


def test_a_customer_may_name_their_own_customer_id(customers):
    api, jane = customers["jane"]
    assert _open(api, customer_id=jane.id).status_code == 201


def test_a_customer_cannot_open_a_ticket_for_another_customer(customers):
    api, _ = customers["jane"]
    _, omar = customers["omar"]
    answer = _open(api, customer_id=omar.id)
    assert answer.status_code == 404 and str(omar.id) in answer.json["error"]
    assert db.session.execute(db.select(Ticket)).first() is None


def test_a_customer_cannot_choose_the_priority(customers):
    api, _ = customers["jane"]
    answer = _open(api, priority="urgent")
    assert answer.status_code == 422 and "priority" in answer.json["errors"]
    assert db.session.execute(db.select(Ticket)).first() is None


def test_invalid_start_data_names_the_field(customers):
    api, _ = customers["jane"]
    answer = _open(api, data={**RETURN_START, "amount": "lots"})
    assert answer.status_code == 422 and "data.amount" in answer.json["errors"]


def test_a_customer_lists_only_their_own_tickets(customers):
    jane_api, jane = customers["jane"]
    omar_api, omar = customers["omar"]
    mine = _open(jane_api).json["id"]
    _open(omar_api)
    listed = jane_api.get("/api/v1/tickets").json["tickets"]
    assert [t["id"] for t in listed] == [mine]
    assert jane_api.get(f"/api/v1/tickets?customer_id={omar.id}").json["tickets"] == []


def test_a_customer_reads_their_own_ticket_without_internal_fields(customers):
    api, jane = customers["jane"]
    ticket_id = _open(api).json["id"]
    drain()
    answer = api.get(f"/api/v1/tickets/{ticket_id}")
    assert answer.status_code == 200
    assert (answer.json["id"], answer.json["customer_id"], answer.json["status"]) == (
        ticket_id,
        jane.id,
        "new",
    )
    assert answer.json["data"]["order_number"] == "SO-1001"
    assert "tasks" not in answer.json and "incidents" not in answer.json
    assert all(set(event) == {"at", "kind"} for event in answer.json["history"])


def test_a_customer_gets_404_for_another_customers_ticket(customers):
    jane_api, _ = customers["jane"]
    omar_api, _ = customers["omar"]
    omars = _open(omar_api).json["id"]
    answer = jane_api.get(f"/api/v1/tickets/{omars}")
    assert answer.status_code == 404 and "not found" in answer.json["error"]


def test_staff_still_see_every_ticket_with_tasks_and_history(app, client, customers):
    jane_api, _ = customers["jane"]
    ticket_id = _open(jane_api).json["id"]
    drain()
    admin = Api(client, token_for(make_user("admin", "admin")))
    answer = admin.get(f"/api/v1/tickets/{ticket_id}")
    assert answer.status_code == 200 and answer.json["tasks"][0]["name"] == "review_request"
    assert any(event["actor"] == "jane" for event in answer.json["history"])
    assert [t["id"] for t in admin.get("/api/v1/tickets").json["tickets"]] == [ticket_id]


def test_a_customer_account_without_a_profile_is_refused(app, client, customers):
    lost = Api(client, token_for(make_user("lost", "customer")))
    answer = lost.get("/api/v1/tickets")
    assert answer.status_code == 403 and "profile" in answer.json["error"]
