"""The inbox ticket page's "Cancel ticket" button: shown to those the policy allows (managers, admins,
the leads of the open tasks' teams) while the ticket runs; a confirmed POST form with CSRF."""

import lxml.html
import pytest

from app.engine import start_process
from app.extensions import db
from app.models import HumanTask, Ticket
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import csrf_of, deploy_shipped, login, make_customer, make_user


@pytest.fixture
def ticket_id(app):
    """A return ticket whose review task is open in team returns; its people sign in with "pw"."""
    for name, role, teams, lead in (
        ("alice", "agent", ("returns",), False),
        ("lena", "agent", ("returns",), True),
        ("mike", "manager", ("returns",), False),
        ("root", "admin", (), False),
        ("olga", "agent", ("credit",), True),
    ):
        make_user(name, role, teams=teams, lead=lead, password="pw")
    deploy_shipped("return")
    ticket, _ = start_process("return", make_customer().id, "Broken", RETURN_START, actor="test")
    drain()
    assert (
        db.session.execute(db.select(HumanTask.team).where(HumanTask.ticket_id == ticket.id)).scalar()
        == "returns"
    )
    return ticket.id


def _page(client, ticket_id):
    answer = client.get(f"/inbox/tickets/{ticket_id}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _cancel_forms(html):
    return lxml.html.fromstring(html).xpath("//form[contains(@action, '/cancel')]")


def _status(ticket_id):
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id).status


@pytest.mark.parametrize("name, shown", [("mike", True), ("root", True), ("lena", True), ("alice", False)])
def test_the_button_is_shown_only_to_those_allowed(client, ticket_id, name, shown):
    login(client, name)
    html = _page(client, ticket_id)
    forms = _cancel_forms(html)
    assert bool(forms) is shown
    if shown:  # behind a <details> that says what it does: the button is the confirmation
        (form,) = forms
        assert form.get("method") == "post" and form.get("action") == f"/inbox/tickets/{ticket_id}/cancel"
        assert form.xpath("ancestor::details/summary")[0].text.startswith("Cancel ticket")
        assert form.xpath(".//input[@name='csrf_token']/@value")
        assert form.xpath(".//button")[0].text == f"Yes, cancel ticket #{ticket_id}"


def test_cancelling_works_and_the_button_goes_away(client, ticket_id):
    login(client, "lena")
    token = csrf_of(_page(client, ticket_id))
    answer = client.post(f"/inbox/tickets/{ticket_id}/cancel", data={"csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/inbox/tickets/{ticket_id}")
    assert _status(ticket_id) == "cancelled"
    html = _page(client, ticket_id)  # she acted on it, so she still sees it
    assert f"Ticket #{ticket_id} was cancelled." in html
    assert _cancel_forms(html) == []
    assert db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).first() is None


def test_cancelling_an_ended_ticket_says_so(client, ticket_id):
    login(client, "mike")
    token = csrf_of(_page(client, ticket_id))
    assert client.post(f"/inbox/tickets/{ticket_id}/cancel", data={"csrf_token": token}).status_code == 302
    again = client.post(
        f"/inbox/tickets/{ticket_id}/cancel", data={"csrf_token": token}, follow_redirects=True
    )
    assert again.status_code == 200
    assert f"Ticket {ticket_id} has already ended (its process is cancelled)." in again.get_data(as_text=True)


def test_without_the_csrf_token_nothing_happens(client, ticket_id):
    login(client, "mike")
    assert client.post(f"/inbox/tickets/{ticket_id}/cancel", data={}).status_code == 400
    assert client.post(f"/inbox/tickets/{ticket_id}/cancel", data={"csrf_token": "forged"}).status_code == 400
    assert _status(ticket_id) != "cancelled"


def test_an_agent_who_sees_the_ticket_gets_403_and_one_who_does_not_404(client, ticket_id):
    login(client, "alice")
    token = csrf_of(_page(client, ticket_id))
    assert client.post(f"/inbox/tickets/{ticket_id}/cancel", data={"csrf_token": token}).status_code == 403
    other = client.application.test_client()
    login(other, "olga")  # leads credit, not returns: the ticket is not hers to see
    token = csrf_of(other.get("/inbox/").get_data(as_text=True))
    assert other.post(f"/inbox/tickets/{ticket_id}/cancel", data={"csrf_token": token}).status_code == 404
    assert _status(ticket_id) != "cancelled"
