"""/dashboard/tickets: every ticket in scope, each filter, counts per status, sorting, pages, the
CSV export, and who may see it (managers and admins all, leads their teams', nobody else)."""

import csv
import io
from datetime import timedelta

import pytest

from app.clock import utcnow
from app.engine import start_process
from app.extensions import db
from app.models import TicketField
from tests.dashboard.ticket_rows import counts_of, listed, page_of, people_fixture, tickets_fixture  # noqa: F401
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, login, make_customer, make_customer_user


@pytest.fixture
def manager(client, people):
    login(client, "max")
    return client


# --- what the list holds -----------------------------------------------------------------------


def test_every_kind_of_ticket_is_listed_newest_first_with_its_state(manager, tickets, clock):
    made = {
        "open": tickets(team="returns"),
        "waiting_customer": tickets(waits="message"),
        "waiting_timer": tickets(waits="timer"),
        "incident": tickets(incident=True, team="returns"),
        "closed": tickets(status="closed", closed=utcnow()),
        "cancelled": tickets(status="cancelled", closed=utcnow()),
    }
    assert listed(manager) == sorted((t.id for t in made.values()), reverse=True)
    for state, ticket in made.items():
        assert listed(manager, state=state) == [ticket.id], state
    page = page_of(manager.get("/dashboard/tickets"))
    row = page.xpath(f"//tr[@data-ticket='{made['incident'].id}']")[0]
    assert "Incident" in row.text_content()
    assert row.xpath(".//a/@href")[0] == f"/dashboard/tickets/{made['incident'].id}"


def test_filters_by_type_status_and_priority(manager, tickets, clock):
    complaint = tickets(ticket_type="complaint", status="new", priority="urgent")
    ret = tickets(ticket_type="return", status="in_progress", priority="low")
    assert listed(manager, type="complaint") == [complaint.id]
    assert listed(manager, status="in_progress") == [ret.id]
    assert listed(manager, priority="urgent") == [complaint.id]
    assert listed(manager, type="return", priority="urgent") == []


def test_filters_by_version_of_a_type(manager, tickets, clock):
    first = tickets(ticket_type="return", version=1)
    second = tickets(ticket_type="return", version=2)
    assert listed(manager, type="return", version=2) == [second.id]
    assert listed(manager, type="return", version=1) == [first.id]


def test_a_version_without_a_type_is_a_422_naming_it(manager, tickets):
    response = manager.get("/dashboard/tickets?version=2")
    assert response.status_code == 422
    assert "version" in response.get_data(as_text=True)


def test_filters_by_team_and_assignee(manager, tickets, people, clock):
    returns = tickets(team="returns", assignee="alice")
    credit = tickets(team="credit")
    assert listed(manager, team="credit") == [credit.id]
    assert listed(manager, assignee_id=people["alice"].id) == [returns.id]


@pytest.mark.parametrize("state", ["on_track", "at_risk", "breached", "met", "paused"])
def test_filters_by_sla_state(manager, tickets, clock, state):
    made = {s: tickets(sla=s) for s in ("on_track", "at_risk", "breached", "met", "paused")}
    tickets()  # no SLA clock: in none of them
    assert listed(manager, sla=state) == [made[state].id]


def test_a_breached_ticket_waiting_on_the_customer_stays_breached(manager, tickets, clock):
    ticket = tickets(sla="paused")
    ticket.sla_met = False  # its clock recorded the miss before it paused
    db.session.commit()
    assert listed(manager, sla="breached") == [ticket.id]
    assert listed(manager, sla="paused") == []


def test_a_ticket_breaches_when_its_due_time_passes(manager, tickets, clock):
    ticket = tickets(sla="on_track")
    assert listed(manager, sla="breached") == []
    clock.shift(timedelta(days=3))
    assert listed(manager, sla="breached") == [ticket.id]


def test_filters_by_customer_name_or_email_start_in_any_case(manager, tickets, clock):
    jane = tickets(customer="Jane Doe")
    omar = tickets(customer="Omar Khan")
    assert listed(manager, customer="OMA") == [omar.id]
    assert listed(manager, customer="jane@exa") == [jane.id]
    assert listed(manager, customer="doe") == []  # the start of the name, not any part
    assert listed(manager, customer_id=jane.customer_id) == [jane.id]


def test_filters_by_created_and_closed_dates(manager, tickets, clock):
    old = tickets(status="closed", closed=utcnow() + timedelta(days=1))
    clock.shift(timedelta(days=10))
    new = tickets()
    day = utcnow().date()
    assert listed(manager, created_from=day.isoformat()) == [new.id]
    assert listed(manager, created_to=(day - timedelta(days=1)).isoformat()) == [old.id]
    closed_day = (day - timedelta(days=9)).isoformat()
    assert listed(manager, closed_from=closed_day, closed_to=closed_day) == [old.id]


def test_a_bad_date_is_a_422_naming_it(manager):
    response = manager.get("/dashboard/tickets?closed_to=yesterday")
    assert response.status_code == 422
    assert "closed_to" in response.get_data(as_text=True)


def test_filters_by_order_number_and_start_form_fields(manager, tickets, clock):
    kettle = tickets(fields={"order_number": "SO-1001", "severity": "high", "amount": 89.9})
    tickets(fields={"order_number": "SO-2002", "severity": "low"})
    assert listed(manager, order_number="so-1001") == [kettle.id]
    assert listed(manager, field="severity:HIGH") == [kettle.id]
    assert listed(manager, field=["severity:high", "amount:89.9"]) == [kettle.id]
    assert listed(manager, field=["severity:high", "amount:90"]) == []


def test_starting_a_ticket_projects_its_scalar_start_fields(app, clock):
    deploy_shipped("return")
    customer = make_customer()
    ticket, _ = start_process("return", customer.id, "Broken shoe", RETURN_START, actor="test")
    stored = dict(
        db.session.execute(
            db.select(TicketField.name, TicketField.value).where(TicketField.ticket_id == ticket.id)
        ).all()
    )
    assert stored == {
        "order_number": "so-1001",
        "reason": "damaged",
        "amount": "89.9",
        "preferred_resolution": "refund",
    }  # items (a list) is not a scalar


def test_status_choices_are_the_chosen_types_statuses_with_labels(manager, clock):
    deploy_shipped("return", "complaint")
    page = page_of(manager.get("/dashboard/tickets?type=complaint"))
    options = {
        o.get("value"): o.text for o in page.xpath("//select[@name='status']/option") if o.get("value")
    }
    assert options == {
        "new": "New",
        "in_progress": "In progress",
        "closed": "Closed",
        "cancelled": "Cancelled",
    }
    page = page_of(manager.get("/dashboard/tickets?type=return"))
    values = [o.get("value") for o in page.xpath("//select[@name='status']/option")]
    assert "awaiting_return" in values and "awaiting_customer" in values


# --- counts, sorting, pages --------------------------------------------------------------------


def test_counts_per_status_follow_the_filters(manager, tickets, clock):
    tickets(status="new", ticket_type="return")
    tickets(status="new", ticket_type="complaint")
    tickets(status="closed", ticket_type="complaint")
    assert counts_of(manager) == {"closed": 1, "new": 2}
    assert counts_of(manager, type="complaint") == {"closed": 1, "new": 1}


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("id", ["a", "b", "c"]),
        ("-id", ["c", "b", "a"]),
        ("subject", ["b", "c", "a"]),
        ("-priority", ["c", "a", "b"]),
        ("customer", ["b", "c", "a"]),
        ("created", ["a", "b", "c"]),
    ],
)
def test_sorts_on_a_column_with_the_id_breaking_ties(manager, tickets, clock, sort, expected):
    made = {
        "a": tickets(subject="Zebra", priority="high", customer="Zoe"),
        "b": tickets(subject="Apple", priority="low", customer="Adam"),
        "c": tickets(subject="Mango", priority="urgent", customer="Adam"),
    }
    names = {t.id: name for name, t in made.items()}
    assert [names[i] for i in listed(manager, sort=sort)] == expected


def test_every_column_header_links_to_its_sort(manager, tickets, clock):
    tickets()
    page = page_of(manager.get("/dashboard/tickets?type=complaint"))
    links = {a.get("data-sort"): a.get("href") for a in page.xpath("//th/a")}
    assert set(links) == {
        "id",
        "subject",
        "type",
        "status",
        "priority",
        "sla",
        "team",
        "customer",
        "created",
        "closed",
    }
    assert "type=complaint" in links["subject"] and "sort=subject" in links["subject"]


def test_an_unknown_sort_is_a_422(manager):
    assert manager.get("/dashboard/tickets?sort=password").status_code == 422


def test_pages_hold_50_tickets_and_keep_the_filters(manager, tickets, clock):
    made = [tickets(ticket_type="return").id for _ in range(55)]
    tickets(ticket_type="complaint")
    first = listed(manager, type="return")
    second = listed(manager, type="return", page=2)
    assert len(first) == 50 and len(second) == 5
    assert first + second == sorted(made, reverse=True)
    page = page_of(manager.get("/dashboard/tickets?type=return"))
    assert "type=return" in page.xpath("//a[@rel='next']/@href")[0]


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_exports_the_filtered_list_without_formulas(manager, tickets, clock):
    evil = tickets(subject='=HYPERLINK("http://x")', customer="@Mallory", ticket_type="return")
    tickets(ticket_type="complaint")
    response = manager.get("/dashboard/tickets.csv?type=return")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(r["id"]) for r in rows] == [evil.id]
    assert rows[0]["subject"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["customer"] == "'@Mallory"
    assert rows[0]["state"] == "open"


def test_csv_streams_the_whole_list_in_batches(manager, tickets, clock, monkeypatch):
    monkeypatch.setattr("app.ticket_list.listing.CSV_BATCH", 2)
    made = [tickets().id for _ in range(5)]
    rows = list(csv.DictReader(io.StringIO(manager.get("/dashboard/tickets.csv").get_data(as_text=True))))
    assert [int(r["id"]) for r in rows] == sorted(made, reverse=True)


def test_csv_refuses_a_bad_filter_like_the_page(manager):
    assert manager.get("/dashboard/tickets.csv?sla=late").status_code == 422


# --- who may see it ----------------------------------------------------------------------------


def test_a_lead_sees_only_the_tickets_of_their_teams(client, tickets, clock):
    returns = tickets(team="returns")
    tickets(team="credit")
    login(client, "lena")
    assert listed(client) == [returns.id]
    assert listed(client, team="credit") == []
    rows = list(csv.DictReader(io.StringIO(client.get("/dashboard/tickets.csv").get_data(as_text=True))))
    assert [int(r["id"]) for r in rows] == [returns.id]


def test_an_admin_sees_everything(client, tickets, clock):
    made = [tickets(team="returns").id, tickets(team="credit").id, tickets().id]
    login(client, "root")
    assert listed(client) == sorted(made, reverse=True)


@pytest.mark.parametrize("url", ["/dashboard/tickets", "/dashboard/tickets.csv"])
def test_agents_and_customers_get_404(client, people, url):
    login(client, "alice")
    assert client.get(url).status_code == 404
    make_customer_user("jane")
    client2 = client.application.test_client()
    login(client2, "jane")
    assert client2.get(url).status_code == 404
