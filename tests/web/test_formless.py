"""Pages for processes without forms: a formless task in the inbox (Complete, optional JSON data
with inline errors), and the portal opening a ticket of a type without a start form."""

import lxml.html
import pytest

from app.engine import deploy, start_process, task_data
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Ticket
from tests.diagrams import gateway_process
from tests.factories import csrf_of, login, make_customer, make_customer_user, make_user


def _page(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def _post(client, url, data):
    token = csrf_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


@pytest.fixture
def decide(app, client):
    """A signed-in agent and the open formless task `decide` of a gateway process (`approved == True`)."""
    make_user("alice", "agent", teams=("support",), password="pw")
    deploy(gateway_process("approved == True"), actor="test")
    ticket, _ = start_process("gw", make_customer().id, "Formless", {}, actor="test")
    login(client, "alice")
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()


def _open_tasks(ticket_id):
    db.session.expire_all()
    return list(
        db.session.execute(db.select(HumanTask.name).where(HumanTask.ticket_id == ticket_id)).scalars()
    )


def test_formless_task_page_offers_complete_and_a_json_field(client, decide):
    page = _page(client.get(f"/inbox/tasks/{decide.id}"))
    assert [b.text for b in page.xpath("//form[@enctype]//button")] == ["Complete task"]
    [area] = page.xpath("//textarea[@name='process_data']")
    assert area.text is None or not area.text.strip()
    assert page.xpath("//label[@for='process_data']")


def test_formless_task_completes_with_json_data_the_gateway_reads(client, decide):
    url = f"/inbox/tasks/{decide.id}"
    answer = _post(client, url, {"process_data": '{"approved": true, "note": "checked"}'})
    assert answer.status_code == 302
    assert _open_tasks(decide.ticket_id) == ["yes"]
    following = db.session.execute(db.select(HumanTask.id).where(HumanTask.name == "yes")).scalar_one()
    assert task_data(following)["note"] == "checked"


@pytest.mark.parametrize(
    "typed,words",
    [
        ('{"approved": tru}', "not valid JSON (line 1, column 14)"),
        ("[1, 2]", "Write a JSON object"),
        ('{"ticket_id": 3}', "ticket_id: 'ticket_id' is set by the engine"),
        ('{"a-b": 1}', "a-b: field names must be identifiers"),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        ('{"approved": NaN}', "NaN is not a JSON number"),
        ('{"approved": -Infinity}', "Infinity is not a JSON number"),
        ('{"note": "x\\ud800"}', "cannot be used (note): is not valid Unicode"),
    ],
)
def test_bad_json_is_an_inline_error_and_keeps_what_was_typed(client, decide, typed, words):
    url = f"/inbox/tasks/{decide.id}"
    answer = _post(client, url, {"process_data": typed})
    assert answer.status_code == 422
    page = _page(answer)
    [error] = page.xpath("//p[@id='process_data-error']")
    assert words in error.text_content()
    assert page.xpath("//textarea[@name='process_data']")[0].text == typed
    assert _open_tasks(decide.ticket_id) == ["decide"]


def test_a_gateway_missing_data_is_shown_and_the_task_stays_open(client, decide):
    url = f"/inbox/tasks/{decide.id}"
    answer = _post(client, url, {"process_data": ""})
    assert answer.status_code == 422
    text = _page(answer).text_content()
    assert "which" in text and "'approved'" in text and "nothing was saved" in text
    assert _open_tasks(decide.ticket_id) == ["decide"]
    assert _post(client, url, {"process_data": '{"approved": false}'}).status_code == 302
    assert _open_tasks(decide.ticket_id) == ["no"]


# --- the portal ---------------------------------------------------------------------------------


@pytest.fixture
def jane(app, client):
    deploy(gateway_process("approved == True"), actor="test")
    _, customer = make_customer_user("jane")
    login(client, "jane")
    return customer


def test_portal_lists_a_type_without_a_start_form_and_shows_subject_and_description(client, jane):
    assert 'href="/portal/new/gw"' in client.get("/portal/new").get_data(as_text=True)
    page = _page(client.get("/portal/new/gw"))
    names = [
        e.get("name")
        for e in page.xpath("//form[@enctype]//*[self::input or self::textarea or self::select]")
    ]
    assert names == ["csrf_token", "subject", "description"]


def test_portal_opens_a_ticket_of_a_type_without_a_start_form(client, jane):
    answer = _post(
        client,
        "/portal/new/gw",
        {"subject": "Where is my parcel?", "description": "Ordered a week ago.\nNothing yet."},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    ticket = db.session.execute(db.select(Ticket)).scalar_one()
    assert (ticket.subject, ticket.customer_id) == ("Where is my parcel?", jane.id)
    assert ticket.data == {"description": "Ordered a week ago.\nNothing yet."}
    assert _open_tasks(ticket.id) == ["decide"]
    assert (
        db.session.execute(
            db.select(HistoryEvent.actor).where(HistoryEvent.kind == "ticket_created")
        ).scalar()
        == "jane"
    )


def test_portal_formless_ticket_needs_only_a_subject(client, jane):
    missing = _post(client, "/portal/new/gw", {"subject": ""})
    assert missing.status_code == 422
    assert _page(missing).xpath("//p[@id='subject-error']")
    assert _post(client, "/portal/new/gw", {"subject": "Just a question"}).status_code == 302
    assert db.session.execute(db.select(Ticket.data)).scalar_one() == {}
