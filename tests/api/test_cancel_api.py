"""POST /api/v1/tickets/{id}/cancel: managers, admins and the leads of the open tasks' teams cancel a
ticket (the policy decides); 403 for other staff and customers, 404 outside the caller's scope,
409 once the ticket has ended."""

import pytest

from app.engine import start_process
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Ticket
from app.worker import drain
from tests.api.conftest import Api
from tests.engine.conftest import RETURN_START
from tests.factories import make_customer_user, make_user, token_for


@pytest.fixture
def ticket(shipped, staff):
    """A return ticket with its review task open in team returns (which has members: `staff`)."""
    found, _ = start_process("return", shipped.id, "Broken", RETURN_START, actor="test")
    drain()
    assert (
        db.session.execute(db.select(HumanTask.team).where(HumanTask.ticket_id == found.id)).scalar()
        == "returns"
    )
    return found.id


@pytest.fixture
def more(client, staff):
    """A lead of returns, a lead of another team, an agent of another team, a customer."""
    people = {
        "lead": make_user("lena", "agent", teams=("returns",), lead=True),
        "other_lead": make_user("olga", "agent", teams=("credit",), lead=True),
        "outsider": make_user("dave", "agent", teams=("support",)),
        "customer": make_customer_user("jane")[0],
    }
    return {role: Api(client, token_for(user)) for role, user in people.items()}


def _cancel(api, ticket_id):
    return api.post(f"/api/v1/tickets/{ticket_id}/cancel")


@pytest.mark.parametrize("role", ["manager", "admin", "lead"])
def test_managers_admins_and_the_teams_lead_cancel_a_ticket(staff, more, ticket, role):
    api = {**staff, **more}[role]
    answer = _cancel(api, ticket)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["id"], body["status"], body["instance"]["status"]) == (ticket, "cancelled", "cancelled")
    assert body["tasks"] == [] and body["waiting"] == {"messages": [], "timers": []}
    assert "ticket_closed" in [e["kind"] for e in body["history"]]
    assert db.session.get(Ticket, ticket).status == "cancelled"
    actor = {"manager": "max", "admin": "admin", "lead": "lena"}[role]
    reasons = db.session.execute(
        db.select(HistoryEvent.data).where(
            HistoryEvent.kind == "task_cancelled", HistoryEvent.ticket_id == ticket
        )
    ).scalars()
    assert all(f"({actor})" in data["reason"] for data in reasons)


@pytest.mark.parametrize("role", ["agent", "other_agent"])
def test_other_staff_who_see_the_ticket_get_403(staff, ticket, role):
    answer = _cancel(staff[role], ticket)
    assert answer.status_code == 403
    assert "managers, admins and the leads" in answer.json["error"]
    assert db.session.get(Ticket, ticket).status != "cancelled"


def test_a_customer_token_gets_403(more, ticket):
    assert _cancel(more["customer"], ticket).status_code == 403


@pytest.mark.parametrize("role", ["outsider", "other_lead", "analyst"])
def test_outside_the_scope_is_404(staff, more, ticket, role):
    assert _cancel({**staff, **more}[role], ticket).status_code == 404
    assert db.session.get(Ticket, ticket).status != "cancelled"


def test_an_unknown_ticket_is_404(staff):
    assert _cancel(staff["manager"], 999999).status_code == 404


def test_a_ticket_that_ended_answers_409(staff, ticket):
    assert _cancel(staff["manager"], ticket).status_code == 200
    again = _cancel(staff["admin"], ticket)
    assert again.status_code == 409
    assert again.json["error"] == f"ticket {ticket} has already ended (its process is cancelled)"


def test_without_a_token_401(client, ticket):
    assert client.post(f"/api/v1/tickets/{ticket}/cancel").status_code == 401
