"""Internal notes (8): the notes of task forms and the agents' own notes are on the staff timeline only."""

from app.engine import NOTE_MAX
from app.extensions import db
from app.models import OutboxMessage
from tests.factories import csrf_of, login, token_for

FINDINGS = "Courier confirmed it"  # the complaint's review form: "Not shown to the customer"


def test_the_notes_typed_in_a_task_form_are_on_the_staff_timeline(client, desk):
    ticket = desk.closed_complaint()
    login(client, "alice")
    html = client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)
    assert "Internal note (findings)" in html and FINDINGS in html


def test_an_agent_adds_an_internal_note_to_a_ticket(client, desk):
    ticket = desk.open()
    login(client, "alice")
    page = client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)
    sent = client.post(
        f"/inbox/tickets/{ticket.id}/notes",
        data={"note": "Customer called, wants a call back", "csrf_token": csrf_of(page)},
    )
    assert sent.status_code == 302
    html = client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)
    assert "added an internal note" in html and "Customer called, wants a call back" in html


def test_a_note_needs_the_csrf_token_and_is_length_bounded(client, desk):
    ticket = desk.open()
    login(client, "alice")
    assert client.post(f"/inbox/tickets/{ticket.id}/notes", data={"note": "x"}).status_code == 400
    page = client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)
    too_long = client.post(
        f"/inbox/tickets/{ticket.id}/notes",
        data={"note": "x" * (NOTE_MAX + 1), "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    assert f"at most {NOTE_MAX} characters" in too_long.get_data(as_text=True)
    assert "added an internal note" not in client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)


def test_the_customer_never_sees_an_internal_note(app, client, desk):
    ticket = desk.closed_complaint()
    login(client, "alice")
    page = client.get(f"/inbox/tickets/{ticket.id}").get_data(as_text=True)
    client.post(
        f"/inbox/tickets/{ticket.id}/notes", data={"note": "Secret-7731", "csrf_token": csrf_of(page)}
    )
    customer = app.test_client()
    login(customer, "jane")
    portal = customer.get(f"/portal/tickets/{ticket.id}").get_data(as_text=True)
    assert "Secret-7731" not in portal and FINDINGS not in portal and "nternal note" not in portal
    api = app.test_client().get(
        f"/api/v1/tickets/{ticket.id}", headers={"Authorization": f"Bearer {token_for(desk.user)}"}
    )
    assert "Secret-7731" not in api.get_data(as_text=True) and FINDINGS not in api.get_data(as_text=True)
    assert "note_added" not in [event["kind"] for event in api.get_json()["history"]]
    mails = db.session.execute(db.select(OutboxMessage.body)).scalars().all()
    assert mails and not any("Secret-7731" in body or FINDINGS in body for body in mails)
