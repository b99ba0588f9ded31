"""Fixtures for the ticket list, its API and staff search: people with roles and teams, and
tickets made as rows in any state (status, SLA clock, open tasks, waits, incidents).

A test module imports the fixtures by their function names (`people_fixture`, `tickets_fixture`,
`list_api_fixture`) and asks for them as `people`, `tickets` and `api`."""

from collections import Counter
from datetime import timedelta
from uuid import uuid4

import lxml.html
import pytest

from app.clock import utcnow
from app.extensions import db
from app.models import (
    Customer,
    HumanTask,
    Incident,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    Ticket,
    TicketField,
    Timer,
    field_value,
)
from app.sla import at_risk_window
from tests.factories import make_customer, make_user, token_for


@pytest.fixture(name="people")
def people_fixture(app):
    return {
        name: make_user(name, role, teams=teams, lead=lead, password="pw")
        for name, role, teams, lead in (
            ("max", "manager", (), False),
            ("root", "admin", (), False),
            ("lena", "agent", ("returns",), True),
            ("carl", "agent", ("credit",), True),
            ("alice", "agent", ("returns",), False),
        )
    }


@pytest.fixture(name="tickets")
def tickets_fixture(app, people):
    """tickets(**columns) -> a ticket row with what it holds: `customer` (a name or a Customer),
    `team`/`assignee` (an open task),
    `waits` ("message" | "timer"), `incident`, start `fields`; SLA clock columns as given."""
    definitions = {}
    customers: dict[str, Customer] = {}

    def make(
        ticket_type="complaint",
        version=1,
        subject="Broken kettle",
        status="in_progress",
        priority="normal",
        customer="Jane Doe",
        team=None,
        assignee=None,
        waits=None,
        incident=False,
        fields=None,
        created=None,
        closed=None,
        sla=None,
    ):
        key = (ticket_type, version)
        if key not in definitions:
            definitions[key] = ProcessDefinition(
                key=ticket_type, version=version, kind="bpmn", source=b"<x/>", checksum="c", forms={}
            )
            db.session.add(definitions[key])
            db.session.flush()
        if isinstance(customer, Customer):
            customers[customer.name] = customer
            customer = customer.name
        if customer not in customers:
            customers[customer] = make_customer(name=customer)
        now = utcnow()
        ticket = Ticket(
            type=ticket_type,
            subject=subject,
            customer_id=customers[customer].id,
            priority=priority,
            status=status,
            data=fields or {},
            created_at=created or now,
            updated_at=created or now,
            closed_at=closed,
            sla_team_key=None,
            definition_id=definitions[key].id,  # as the engine keeps it (its instance's definition)
            **_sla_columns(sla, now),
        )
        db.session.add(ticket)
        db.session.flush()
        instance = ProcessInstance(
            definition_id=definitions[key].id,
            ticket_id=ticket.id,
            workflow="{}",
            status="incident" if incident else "running",
        )
        db.session.add(instance)
        db.session.flush()
        if team or assignee:
            db.session.add(
                HumanTask(
                    id=str(uuid4()),
                    instance_id=instance.id,
                    ticket_id=ticket.id,
                    name="review",
                    title="Review",
                    team=team,
                    assignee_id=people[assignee].id if assignee else None,
                )
            )
        if incident:
            db.session.add(
                Incident(
                    instance_id=instance.id,
                    ticket_id=ticket.id,
                    element_id="refund",
                    kind="job",
                    message="payment service down",
                )
            )
        if waits == "message":
            db.session.add(
                MessageSubscription(
                    id=str(uuid4()),
                    instance_id=instance.id,
                    ticket_id=ticket.id,
                    name="customer_reply",
                    element_id="wait_reply",
                )
            )
        if waits == "timer":
            db.session.add(
                Timer(
                    id=str(uuid4()),
                    instance_id=instance.id,
                    element_id="wait",
                    due_at=now + timedelta(days=1),
                )
            )
        for name, value in (fields or {}).items():
            db.session.add(TicketField(ticket_id=ticket.id, name=name, value=field_value(value)))
        db.session.commit()
        return ticket

    return make


def _sla_columns(sla: str | None, now) -> dict:
    """The SLA clock columns of a ticket whose SLA is `sla` at `now` (8 business hours' target)."""
    target = 8 * 3600
    if sla is None:
        return {}
    window = timedelta(
        seconds=at_risk_window(target)
    )  # app.sla keeps sla_at_risk_at this far before the due time
    if sla in ("on_track", "at_risk", "breached"):
        due = (
            now
            + {
                "on_track": timedelta(days=2),
                "at_risk": timedelta(minutes=30),
                "breached": -timedelta(hours=1),
            }[sla]
        )
        return dict(
            sla_target_seconds=target, sla_running_since=now, sla_due_at=due, sla_at_risk_at=due - window
        )
    if sla == "met":
        return dict(sla_target_seconds=target, sla_met=True, sla_due_at=now + timedelta(hours=1))
    if sla == "paused":
        return dict(sla_target_seconds=target, sla_paused=True)
    raise ValueError(sla)


def page_of(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def listed(client, **args) -> list[int]:
    """The ticket ids of a /dashboard/tickets page, in order."""
    response = client.get("/dashboard/tickets", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [int(tr.get("data-ticket")) for tr in page_of(response).xpath("//tr[@data-ticket]")]


def counts_of(client, **args) -> dict[str, int]:
    page = page_of(client.get("/dashboard/tickets", query_string=args))
    return {
        a.get("data-status"): int(a.xpath(".//span[@class='count']")[0].text)
        for a in page.xpath("//a[@data-status]")
    }


@pytest.fixture(name="api")
def list_api_fixture(client, people):
    """`api(**query)`: the JSON of GET /api/v1/tickets (up to 200 rows) as the manager max."""
    token = token_for(people["max"])

    def get(**args):
        answer = client.get(
            "/api/v1/tickets",
            query_string={"limit": 200, **args},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    return get


def assert_counts_match_the_rows(api, filters: list[dict]) -> None:
    """For every filter, the counts per status and the total equal the rows the list returns."""
    for args in filters:
        body = api(**args)
        tally = Counter(t["status"] for t in body["tickets"])
        assert body["counts"] == dict(sorted(tally.items())), args
        assert body["total"] == len(body["tickets"]), args
