"""GET /api/v1/tickets: the dashboard list's filters over the API, its paging metadata, 422s
naming the parameter, and the customers' and agents' lists as they were."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from tests.dashboard.ticket_rows import people_fixture, tickets_fixture  # noqa: F401
from tests.factories import make_customer_user, token_for


@pytest.fixture
def api(client, people):
    """api(username) -> GET with that user's token."""

    def get(username, **args):
        token = token_for(people[username]) if username in people else username
        return client.get("/api/v1/tickets", query_string=args, headers={"Authorization": f"Bearer {token}"})

    return get


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [t["id"] for t in response.json["tickets"]]


def test_filters_combine_and_match_the_page(api, tickets, clock):
    breached = tickets(ticket_type="complaint", sla="breached", fields={"order_number": "SO-9"})
    tickets(ticket_type="complaint", sla="on_track")
    tickets(ticket_type="return", sla="breached")
    assert ids(api("max", type="complaint", sla="breached")) == [breached.id]
    assert ids(api("max", order_number="so-9")) == [breached.id]
    assert ids(api("max", field="order_number:SO-9", state="open")) == [breached.id]


def test_rows_carry_state_sla_version_and_staff_details(api, tickets, people, clock):
    ticket = tickets(team="returns", assignee="alice", sla="at_risk")
    row = api("max").json["tickets"][0]
    assert row["id"] == ticket.id
    assert row["state"] == "open" and row["version"] == 1
    assert row["sla"]["state"] == "at_risk"
    assert row["teams"] == ["returns"] and row["assignees"] == ["Alice"]
    assert row["customer_name"] == "Jane Doe"


def test_pages_say_the_total_the_counts_and_the_next_offset(api, tickets, clock):
    made = [tickets(status="new" if i % 2 else "closed").id for i in range(5)]
    first = api("max", limit=2)
    assert first.json["total"] == 5
    assert first.json["counts"] == {"closed": 3, "new": 2}
    assert first.json["next_offset"] == 2
    last = api("max", limit=2, offset=4)
    assert last.json["next_offset"] is None
    assert ids(first) + ids(api("max", limit=2, offset=2)) + ids(last) == sorted(made, reverse=True)


def test_sorts_like_the_page(api, tickets, clock):
    a = tickets(subject="Beta")
    b = tickets(subject="Alpha")
    assert ids(api("max", sort="subject")) == [b.id, a.id]
    assert ids(api("max", sort="-subject")) == [a.id, b.id]


@pytest.mark.parametrize(
    "args, name",
    [
        ({"sla": "late"}, "sla"),
        ({"state": "gone"}, "state"),
        ({"sort": "password"}, "sort"),
        ({"created_from": "last week"}, "created_from"),
        ({"version": "2"}, "version"),
        ({"field": "no colon"}, "field"),
        ({"priority": ""}, "priority"),
        ({"type": ""}, "type"),
        ({"assignee_id": "x"}, "assignee_id"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(api, args, name):
    response = api("max", **args)
    assert response.status_code == 422
    assert name in response.json["errors"]


def test_a_lead_lists_the_tickets_of_their_teams(api, tickets, clock):
    returns = tickets(team="returns")
    tickets(team="credit")
    assert ids(api("lena")) == [returns.id]


def test_an_agent_lists_their_teams_tickets_as_before(api, tickets, clock):
    returns = tickets(team="returns")
    tickets(team="credit")
    assert ids(api("alice")) == [returns.id]


def test_a_customer_lists_only_their_own_tickets_without_staff_details(api, tickets, app, clock):
    user, customer = make_customer_user("jane")
    tickets(customer="Omar Khan", team="returns")
    mine = tickets(customer=customer, team="returns")
    token = token_for(user)
    response = api(token)
    assert ids(response) == [mine.id]
    assert "teams" not in response.json["tickets"][0]
    assert api(token, team="returns").status_code == 422


def test_a_customer_filters_their_own_tickets_by_state(api, tickets, app, clock):
    user, customer = make_customer_user("jane")
    closed = tickets(customer=customer, status="closed", closed=utcnow() - timedelta(hours=1))
    tickets(customer=customer)
    tickets(customer="Omar Khan", status="closed")
    token = token_for(user)
    assert ids(api(token, state="closed")) == [closed.id]
