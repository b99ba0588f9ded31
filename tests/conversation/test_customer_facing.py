"""What the customer reads: status labels apart from internal outcomes (14), one greeting per letter (13)."""

from app.extensions import db
from app.models import OutboxMessage
from tests.factories import login, token_for


def test_the_customer_never_reads_the_internal_outcome_of_their_complaint(app, client, desk):
    ticket = desk.closed_complaint()
    assert (ticket.status, ticket.resolution) == ("closed", "satisfactory")
    login(client, "jane")
    for page in ("/portal/", f"/portal/tickets/{ticket.id}"):
        html = client.get(page).get_data(as_text=True)
        assert "Closed" in html
        assert "atisfactory" not in html  # neither shown nor in an attribute
    api = app.test_client().get(
        f"/api/v1/tickets/{ticket.id}", headers={"Authorization": f"Bearer {token_for(desk.user)}"}
    )
    body = api.get_json()
    assert (body["status"], body["resolution"], body["status_label"]) == ("closed", None, "Closed")
    listed = app.test_client().get(
        "/api/v1/tickets", headers={"Authorization": f"Bearer {token_for(desk.user)}"}
    )
    assert [t["resolution"] for t in listed.get_json()["tickets"]] == [None]
    mails = (
        db.session.execute(db.select(OutboxMessage.body).where(OutboxMessage.ticket_id == ticket.id))
        .scalars()
        .all()
    )
    assert not any("atisfactory" in body for body in mails)


def test_agents_still_see_the_internal_outcome(client, desk):
    ticket = desk.closed_complaint()
    login(client, "alice")
    assert "satisfactory" in client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)


def test_a_customer_facing_resolution_is_shown_with_the_status(app, client, desk):
    ticket = desk.closed_complaint()
    ticket.resolution = "refunded"
    db.session.commit()
    login(client, "jane")
    html = client.get(f"/portal/tickets/{ticket.id}").get_data(as_text=True)
    assert '<span class="badge">Closed</span>' in html and '<span class="resolution">Refunded</span>' in html
    assert 'data-resolution="refunded"' in html


def test_the_greeting_and_signature_the_agent_typed_are_not_doubled_in_the_letter(desk):
    ticket = desk.open()
    desk.complete(
        ticket,
        "initial_response",
        {"response": "Dear Jane,\n\nwe are sorry about the courier.\n\nBest regards,\nAlice"},
    )
    [mail] = (
        db.session.execute(db.select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
        .scalars()
        .all()
    )
    assert mail.body == (
        "Dear Jane Doe,\n\nwe are sorry about the courier.\n\nKind regards,\nCustomer service"
    )


def test_an_inline_greeting_is_taken_out_and_the_message_kept(desk):
    ticket = desk.open()
    desk.complete(ticket, "initial_response", {"response": "Hi Jane, we are sorry about the courier."})
    [mail] = (
        db.session.execute(db.select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
        .scalars()
        .all()
    )
    assert mail.body.count("Dear") == 1 and "Hi Jane" not in mail.body
    assert "We are sorry about the courier." in mail.body


def test_the_form_says_that_greeting_and_signature_are_added(client, desk):
    ticket = desk.open()
    [task] = desk.tasks(ticket)
    login(client, "alice")
    html = client.get(f"/inbox/tasks/{task.id}").get_data(as_text=True)
    assert "greeting" in html and "signature are added for you" in html
