"""Staff search from the header box: by ticket number (straight to the ticket), by the start of a
customer's name or e-mail, by order number; only tickets the searcher may see; not for customers."""

import pytest

from tests.dashboard.ticket_rows import page_of, people_fixture, tickets_fixture  # noqa: F401
from tests.factories import login, make_customer_user


def found(client, q) -> list[int]:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200, response.status_code
    return [int(tr.get("data-ticket")) for tr in page_of(response).xpath("//tr[@data-ticket]")]


def test_every_staff_page_has_the_search_box(client, people):
    login(client, "alice")
    page = page_of(client.get("/inbox/"))
    assert page.xpath("//header//form[@action='/search']//input[@name='q']")


def test_customers_have_no_search_box_and_get_404(client):
    make_customer_user("jane")
    login(client, "jane")
    assert not page_of(client.get("/portal/")).xpath("//form[@action='/search']")
    assert client.get("/search?q=1").status_code == 404


def test_an_exact_ticket_number_opens_the_ticket_on_the_dashboard(client, tickets, clock):
    ticket = tickets(team="returns")
    login(client, "max")
    response = client.get(f"/search?q=%23{ticket.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dashboard/tickets/{ticket.id}")


def test_an_agent_jumps_to_the_ticket_in_the_inbox(client, tickets, clock):
    ticket = tickets(team="returns")
    login(client, "alice")
    assert client.get(f"/search?q={ticket.id}").headers["Location"].endswith(f"/inbox/tickets/{ticket.id}")


def test_finds_customers_by_the_start_of_their_name_or_email(client, tickets, clock):
    omar = tickets(customer="Omar Khan")
    tickets(customer="Jane Doe")
    login(client, "max")
    assert found(client, "omar") == [omar.id]
    assert found(client, "OMAR@EXAMPLE") == [omar.id]
    assert found(client, "khan") == []  # the start of the name


def test_finds_tickets_by_order_number_in_any_case(client, tickets, clock):
    kettle = tickets(fields={"order_number": "SO-1001"})
    tickets(fields={"order_number": "SO-1002"})
    login(client, "max")
    assert found(client, "so-1001") == [kettle.id]


def test_an_agent_finds_only_the_tickets_they_may_see(client, tickets, clock):
    returns = tickets(team="returns", customer="Omar Khan")
    credit = tickets(team="credit", customer="Omar Khan")
    login(client, "alice")
    assert found(client, "omar") == [returns.id]
    assert found(client, str(credit.id)) == []  # no jump to a ticket outside their teams


@pytest.mark.parametrize("q", ["", "   ", "%", "_", "x" * 500, "'; drop table ticket; --"])
def test_odd_queries_find_nothing_and_do_no_harm(client, tickets, q, clock):
    tickets(customer="Omar Khan")
    login(client, "max")
    assert found(client, q) == []
