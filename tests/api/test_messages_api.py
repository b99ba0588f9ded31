"""POST /api/v1/messages without a ticket id: the payload's correlation keys find the ticket."""

import pytest

from app.engine import deploy
from tests.diagrams import correlated_process
from tests.factories import make_customer


@pytest.fixture
def orders(staff):
    deploy(correlated_process())
    customer = make_customer()

    def open_ticket(order_number):
        answer = staff["agent"].post(
            "/api/v1/tickets",
            json={
                "type": "orders",
                "customer_id": customer.id,
                "subject": f"Order {order_number}",
                "data": {"order_number": order_number},
            },
        )
        assert answer.status_code == 201, answer.json
        return answer.json["id"]

    return open_ticket


def _post(staff, body):
    return staff["agent"].post("/api/v1/messages", json=body)


def _waits(staff, ticket_id):
    return staff["agent"].get(f"/api/v1/tickets/{ticket_id}").json["waiting"]["messages"]


def test_the_payload_routes_the_message_to_the_ticket_with_that_order(staff, orders):
    first, second = orders("SO-1"), orders("SO-2")
    answer = _post(staff, {"name": "order_update", "payload": {"order_number": "SO-2", "status": "shipped"}})
    assert answer.status_code == 200, answer.json
    assert answer.json["ticket_id"] == second and answer.json["element_id"] == "updated"
    assert answer.json["correlations"] == {"order": {"order_number": "SO-2"}}
    assert _waits(staff, second) == [] and _waits(staff, first) != []


def test_no_match_is_404_and_two_matches_are_409_listing_both(staff, orders):
    first, second = orders("SO-1"), orders("SO-1")
    missing = _post(staff, {"name": "order_update", "payload": {"order_number": "SO-9"}})
    assert missing.status_code == 404 and "SO-9" in missing.json["error"]
    both = _post(staff, {"name": "order_update", "payload": {"order_number": "SO-1"}})
    assert both.status_code == 409
    assert [m["ticket_id"] for m in both.json["matches"]] == [first, second]
    assert _waits(staff, first) != [] and _waits(staff, second) != []


def test_a_payload_without_the_correlation_property_is_422_naming_it(staff, orders):
    orders("SO-1")
    answer = _post(staff, {"name": "order_update", "payload": {"status": "shipped"}})
    assert answer.status_code == 422
    assert "order_number" in answer.json["error"] and "order_update" in answer.json["error"]
    assert "order_number" in answer.json["errors"]["payload"]


def test_ticket_id_path_and_explicit_keys(staff, orders):
    first, second = orders("SO-1"), orders("SO-2")
    wrong = _post(staff, {"name": "order_update", "ticket_id": first, "payload": {"order_number": "SO-2"}})
    assert wrong.status_code == 404
    right = _post(staff, {"name": "order_update", "ticket_id": first, "payload": {"order_number": "SO-1"}})
    assert right.status_code == 200 and right.json == {
        "delivered": True,
        "ticket_id": first,
        "element_id": "updated",
    }
    keyed = _post(
        staff,
        {
            "name": "order_update",
            "payload": {"order_number": "SO-2"},
            "correlation_keys": {"order": {"order_number": "SO-2"}},
        },
    )
    assert keyed.status_code == 200 and keyed.json["ticket_id"] == second


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "order_update", "ticket_id": "1", "payload": {}}, "ticket_id"),
        ({"name": "order_update", "ticket_id": True, "payload": {}}, "ticket_id"),
        ({"name": "order_update", "payload": {}, "correlation_keys": ["SO-1"]}, "correlation_keys"),
        (
            {"name": "order_update", "payload": {}, "correlation_keys": {"order": {"sku": 1}}},
            "correlation_keys.order.sku",
        ),
        ({"payload": {}}, "name"),
    ],
)
def test_malformed_requests_are_422_naming_the_field(staff, orders, body, field):
    orders("SO-1")
    answer = _post(staff, body)
    assert answer.status_code == 422
    assert field in answer.json["errors"]


def test_a_process_variable_correlation_that_fails_at_start_is_a_422_not_a_500(staff):
    deploy(correlated_process(process_variable="no_such_variable"))
    answer = staff["agent"].post(
        "/api/v1/tickets",
        json={"type": "orders", "customer_id": make_customer().id, "subject": "Order", "data": {}},
    )
    assert answer.status_code == 422 and "no_such_variable" in answer.json["error"]
    assert staff["agent"].get("/api/v1/tickets").json["tickets"] == []  # nothing half-stored
