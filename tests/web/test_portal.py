"""The customer portal over HTTP: tickets, opening one from its start form, answering the process."""

import io
import json
from datetime import timedelta

import pytest

from app.engine import complete_task, deploy, start_process
from app.extensions import db
from app.models import Attachment, Comment, HistoryEvent, HumanTask, MessageSubscription, Ticket
from app.worker import drain
from tests.diagrams import bpmn
from tests.engine.conftest import RETURN_START
from tests.factories import ROOT, csrf_of, deploy_shipped, login, make_customer_user, make_user

RETURN_FORM = {
    "subject": "Shoes arrived damaged",
    "order_number": "SO-1001",
    "items.0.sku": "SHOE-42",
    "items.0.qty": "1",
    "reason": "damaged",
    "amount": "89.90",
    "preferred_resolution": "refund",
}


@pytest.fixture
def jane(app, client):
    """Jane, a signed-in customer, with the return and general ticket types deployed."""
    deploy_shipped("return", "general")
    user, customer = make_customer_user("jane")
    login(client, "jane")
    return customer


@pytest.fixture
def agent(app):
    return make_user("alice", "agent", teams=("returns", "credit", "support", "customer-success"))


def _post(client, url, data, **kw):
    """POST a form with the CSRF token of the page at `url` (or of the portal home)."""
    page = client.get(kw.pop("page", url)).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_of(page)}, **kw)


def _open_return(client, **changes):
    return _post(client, "/portal/new/return", {**RETURN_FORM, **changes})


def _ticket_of(customer, subject=None) -> Ticket:
    query = db.select(Ticket).where(Ticket.customer_id == customer.id).order_by(Ticket.id.desc())
    if subject:
        query = query.where(Ticket.subject == subject)
    db.session.expire_all()
    return db.session.execute(query.limit(1)).scalar_one()


def _ask_for_more_info(ticket, agent, question="Can you send a photo of the damage?"):
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    complete_task(task.id, {"decision": "more_info", "question": question}, agent)
    drain()


def _waiting_return(client, customer, agent) -> Ticket:
    assert _open_return(client).status_code == 302
    drain()
    ticket = _ticket_of(customer)
    _ask_for_more_info(ticket, agent)
    return ticket


# --- the list of tickets -----------------------------------------------------------------------


def test_tickets_are_listed_newest_first_with_the_status_the_process_set(client, jane, clock):
    _open_return(client, subject="First return")
    clock.shift(timedelta(minutes=5))
    _post(
        client,
        "/portal/new/general",
        {"subject": "Second, a question", "question": "Do you ship to Norway?", "category": "delivery"},
    )
    drain()
    page = client.get("/portal/").get_data(as_text=True)
    assert page.index("Second, a question") < page.index("First return")
    # The statuses the processes' ticket.set_status tasks set: a return waits for review, a question is worked on.
    assert 'data-status="new"' in page and 'data-status="in_progress"' in page


def test_list_shows_when_an_answer_is_needed(client, jane, agent):
    _waiting_return(client, jane, agent)
    page = client.get("/portal/").get_data(as_text=True)
    assert "Your answer is needed" in page
    assert 'data-status="awaiting_customer"' in page


def test_list_holds_only_the_customers_own_tickets(app, client, jane):
    _open_return(client, subject="Jane's return")
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/portal/").get_data(as_text=True))})
    make_customer_user("omar")
    login(client, "omar")
    page = client.get("/portal/").get_data(as_text=True)
    assert "Jane's return" not in page
    assert "You have no tickets yet" in page


# --- opening a ticket --------------------------------------------------------------------------


def test_ticket_types_are_the_deployed_processes_with_their_start_forms(client, jane):
    deploy_shipped("credit", "complaint")
    page = client.get("/portal/new").get_data(as_text=True)
    for name, title in [
        ("Return request", "Return items"),
        ("General question", "Ask a question"),
        ("Credit request", None),
        ("Complaint", "File a complaint"),
    ]:
        assert name in page
        if title:
            assert title in page
    assert "Tell us what you want to send back" in page  # the start form's description
    assert 'href="/portal/new/return"' in page


def test_ticket_types_show_the_latest_version_only(app, client, jane):
    source = (ROOT / "processes" / "general.bpmn").read_bytes()
    deploy(source.replace(b'name="General question"', b'name="Ask us anything"'), actor="test")
    page = client.get("/portal/new").get_data(as_text=True)
    assert "Ask us anything" in page
    assert "General question" not in page


def test_start_form_shows_the_subject_and_the_forms_fields(client, jane):
    page = client.get("/portal/new/return").get_data(as_text=True)
    assert 'name="subject"' in page
    for field in ("order_number", "items.0.sku", "items.0.qty", "reason", "amount", "preferred_resolution"):
        assert f'name="{field}"' in page
    assert 'enctype="multipart/form-data"' in page


def test_unknown_ticket_type_is_404(client, jane):
    assert client.get("/portal/new/nope").status_code == 404


def test_opening_a_ticket_starts_its_process_for_the_customer(client, jane):
    answer = _open_return(client)
    drain()
    ticket = _ticket_of(jane)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/portal/tickets/{ticket.id}")
    assert (ticket.type, ticket.subject) == ("return", "Shoes arrived damaged")
    assert ticket.data["items"] == [{"sku": "SHOE-42", "qty": 1}] and ticket.data["amount"] == 89.9
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    assert (task.name, task.team) == ("review_request", "support")  # no team 'returns': the fallback team
    created = db.session.execute(
        db.select(HistoryEvent).where(
            HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "ticket_created"
        )
    ).scalar_one()
    assert created.actor == "jane"


def test_engine_errors_show_next_to_their_fields_and_keep_what_was_typed(client, jane):
    answer = _open_return(client, amount="", order_number="SO-77")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="f-amount-error"' in page and "this field is required" in page
    assert 'value="SO-77"' in page and 'value="Shoes arrived damaged"' in page
    assert db.session.execute(db.select(Ticket)).first() is None


def test_text_in_a_number_field_is_refused_inline(client, jane):
    page = _open_return(client, amount="lots").get_data(as_text=True)
    assert "must be a number" in page and 'value="lots"' in page
    assert db.session.execute(db.select(Ticket)).first() is None


def test_a_subject_is_required(client, jane):
    answer = _open_return(client, subject="  ")
    assert answer.status_code == 422
    assert 'id="subject-error"' in answer.get_data(as_text=True)
    assert db.session.execute(db.select(Ticket)).first() is None


def test_add_item_without_javascript_shows_the_form_again_with_a_new_row(client, jane):
    answer = _open_return(client, _add_row="items")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'name="items.1.sku"' in page and 'value="SHOE-42"' in page
    assert 'class="error"' not in page
    assert db.session.execute(db.select(Ticket)).first() is None


def test_files_of_the_start_form_become_the_tickets_attachments(app, client, jane, tmp_path):
    (tmp_path / "claim_start.json").write_text(
        json.dumps(
            {
                "title": "Report a damage",
                "type": "object",
                "required": ["what"],
                "properties": {
                    "what": {"type": "string", "title": "What happened?"},
                    "photo": {"title": "Photo", "x-widget": "file"},
                },
            }
        )
    )
    app.config["FORMS_DIR"] = tmp_path
    deploy(
        bpmn(
            """
  <bpmn:startEvent id="begin"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="formJsonSchemaFilename" value="claim_start.json"/>
  </spiffworkflow:properties></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="look" name="Look"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="look"/>
  <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="done"/>""",
            process_id="claim",
        ),
        actor="test",
    )
    answer = _post(
        client,
        "/portal/new/claim",
        {
            "subject": "Dented box",
            "what": "The box was dented",
            "photo": (io.BytesIO(b"\x89PNG fake"), "box.png"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    ticket = _ticket_of(jane)
    stored = db.session.execute(db.select(Attachment)).scalar_one()
    assert (stored.ticket_id, stored.filename, stored.data) == (ticket.id, "box.png", b"\x89PNG fake")
    assert ticket.data["photo"]["attachment_id"] == stored.id
    download = client.get(f"/portal/attachments/{stored.id}")
    assert download.status_code == 200 and download.data == b"\x89PNG fake"
    assert "attachment" in download.headers["Content-Disposition"]


# --- one ticket --------------------------------------------------------------------------------


def test_ticket_page_shows_the_status_and_what_is_expected(client, jane):
    _open_return(client)
    drain()
    page = client.get(f"/portal/tickets/{_ticket_of(jane).id}").get_data(as_text=True)
    assert "Shoes arrived damaged" in page and 'data-status="new"' in page and "Received" in page
    assert "Nothing to do for now" in page
    assert 'action="/portal/tickets/1/messages"' in page


def test_a_question_of_the_process_is_shown_with_an_answer_form(client, jane, agent):
    ticket = _waiting_return(client, jane, agent)
    page = client.get(f"/portal/tickets/{ticket.id}").get_data(as_text=True)
    assert "Your answer is needed" in page
    request = page.split('<blockquote class="request-body">', 1)[1].split("</blockquote>", 1)[0]
    assert "Can you send a photo of the damage?" in request
    assert f'action="/portal/tickets/{ticket.id}/reply"' in page
    assert f'action="/portal/tickets/{ticket.id}/messages"' not in page


def test_the_conversation_holds_the_processes_messages_and_the_customers(client, jane, agent):
    ticket = _waiting_return(client, jane, agent)
    _post(
        client,
        f"/portal/tickets/{ticket.id}/reply",
        {"message": "Photo is on its way"},
        page=f"/portal/tickets/{ticket.id}",
    )
    page = client.get(f"/portal/tickets/{ticket.id}").get_data(as_text=True)
    assert '<article class="message system">' in page and '<article class="message customer">' in page
    assert page.index("Can you send a photo of the damage?") < page.index("Photo is on its way")


def test_the_answer_is_delivered_to_the_waiting_process_and_kept(client, jane, agent):
    ticket = _waiting_return(client, jane, agent)
    answer = _post(
        client,
        f"/portal/tickets/{ticket.id}/reply",
        {"message": "It is the left shoe"},
        page=f"/portal/tickets/{ticket.id}",
    )
    assert answer.status_code == 302
    drain()
    delivered = db.session.execute(
        db.select(HistoryEvent).where(
            HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "message_delivered"
        )
    ).scalar_one()
    assert delivered.actor == "jane" and delivered.data["payload"] == {"message": "It is the left shoe"}
    comment = db.session.execute(db.select(Comment).where(Comment.author_kind == "customer")).scalar_one()
    assert (comment.body, comment.author_id) == ("It is the left shoe", jane.user_id)
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    assert task.name == "review_request" and "It is the left shoe" in task.instructions
    assert _ticket_of(jane).status == "in_progress"
    added = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "comment_added")
    ).scalar_one()
    assert (added.ticket_id, added.actor, added.data["comment_id"]) == (ticket.id, "jane", comment.id)


def test_files_attached_to_an_answer_are_stored_with_the_ticket(client, jane, agent):
    ticket = _waiting_return(client, jane, agent)
    _post(
        client,
        f"/portal/tickets/{ticket.id}/reply",
        {"message": "Here it is", "attachment": (io.BytesIO(b"JPEGDATA"), "shoe.jpg")},
        page=f"/portal/tickets/{ticket.id}",
        content_type="multipart/form-data",
    )
    stored = db.session.execute(db.select(Attachment)).scalar_one()
    assert (stored.ticket_id, stored.filename, stored.uploaded_by_id) == (ticket.id, "shoe.jpg", jane.user_id)
    delivered = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "message_delivered")
    ).scalar_one()
    assert delivered.data["payload"]["attachments"] == ["shoe.jpg"]
    assert "shoe.jpg" in client.get(f"/portal/tickets/{ticket.id}").get_data(as_text=True)


def test_an_empty_answer_is_refused_and_nothing_is_delivered(client, jane, agent):
    ticket = _waiting_return(client, jane, agent)
    answer = _post(
        client, f"/portal/tickets/{ticket.id}/reply", {"message": "   "}, page=f"/portal/tickets/{ticket.id}"
    )
    assert answer.status_code == 422 and "Write a message first." in answer.get_data(as_text=True)
    assert db.session.execute(db.select(MessageSubscription)).scalar_one().ticket_id == ticket.id


def test_an_empty_file_is_refused_and_nothing_is_delivered_or_stored(client, jane, agent):
    ticket = _waiting_return(client, jane, agent)
    answer = _post(
        client,
        f"/portal/tickets/{ticket.id}/reply",
        {"message": "Here", "attachment": (io.BytesIO(b""), "empty.jpg")},
        page=f"/portal/tickets/{ticket.id}",
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422 and "the file is empty" in answer.get_data(as_text=True)
    assert db.session.execute(db.select(MessageSubscription)).scalar_one().ticket_id == ticket.id
    assert db.session.execute(db.select(Comment).where(Comment.author_kind == "customer")).first() is None
    assert db.session.execute(db.select(Attachment)).first() is None


def test_answering_when_nothing_waits_any_more_is_a_clear_409(client, jane, agent):
    ticket = _waiting_return(client, jane, agent)
    page = client.get(f"/portal/tickets/{ticket.id}").get_data(as_text=True)
    first = client.post(
        f"/portal/tickets/{ticket.id}/reply", data={"message": "One", "csrf_token": csrf_of(page)}
    )
    second = client.post(
        f"/portal/tickets/{ticket.id}/reply", data={"message": "Two", "csrf_token": csrf_of(page)}
    )
    assert first.status_code == 302 and second.status_code == 409
    assert "no longer waits for your answer" in second.get_data(as_text=True)
    bodies = (
        db.session.execute(db.select(Comment.body).where(Comment.author_kind == "customer")).scalars().all()
    )
    assert bodies == ["One"]


def test_a_message_is_added_to_the_conversation(client, jane):
    _open_return(client)
    ticket = _ticket_of(jane)
    answer = _post(
        client,
        f"/portal/tickets/{ticket.id}/messages",
        {"message": "Any news?"},
        page=f"/portal/tickets/{ticket.id}",
    )
    assert answer.status_code == 302
    comment = db.session.execute(db.select(Comment)).scalar_one()
    assert (comment.ticket_id, comment.author_kind, comment.author_id, comment.body) == (
        ticket.id,
        "customer",
        jane.user_id,
        "Any news?",
    )
    [added] = db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.kind == "comment_added")
    ).scalars()
    assert (added.ticket_id, added.actor, added.data) == (
        ticket.id,
        "jane",
        {"comment_id": comment.id, "author_kind": "customer"},
    )


def test_an_empty_message_is_refused(client, jane):
    _open_return(client)
    ticket = _ticket_of(jane)
    answer = _post(
        client, f"/portal/tickets/{ticket.id}/messages", {"message": ""}, page=f"/portal/tickets/{ticket.id}"
    )
    assert answer.status_code == 422
    assert db.session.execute(db.select(Comment)).first() is None


# --- who may see what --------------------------------------------------------------------------


def _someone_elses_ticket() -> int:
    _, omar = make_customer_user("omar")
    ticket, _ = start_process("return", omar.id, "Omar's return", dict(RETURN_START), actor="omar")
    drain()
    return ticket.id


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/portal/tickets/{id}"),
        ("post", "/portal/tickets/{id}/messages"),
        ("post", "/portal/tickets/{id}/reply"),
        ("get", "/portal/attachments/{attachment}"),
    ],
)
def test_another_customers_ticket_is_a_404(client, jane, method, url):
    ticket_id = _someone_elses_ticket()
    attachment = Attachment(ticket_id=ticket_id, filename="x.txt", size=1, data=b"x")
    db.session.add(attachment)
    db.session.commit()
    token = csrf_of(client.get("/portal/").get_data(as_text=True))
    answer = getattr(client, method)(
        url.format(id=ticket_id, attachment=attachment.id),
        data={"message": "hi", "csrf_token": token} if method == "post" else None,
    )
    assert answer.status_code == 404
    assert db.session.execute(db.select(Comment).where(Comment.author_kind == "customer")).first() is None


def test_a_missing_ticket_is_a_404(client, jane):
    assert client.get("/portal/tickets/999").status_code == 404


@pytest.mark.parametrize("role", ["agent", "analyst", "manager", "admin"])
@pytest.mark.parametrize("url", ["/portal/", "/portal/new", "/portal/new/return", "/portal/tickets/1"])
def test_staff_get_a_404_on_portal_pages(app, client, role, url):
    deploy_shipped("return")
    make_user("staff", role, password="pw")
    login(client, "staff")
    assert client.get(url).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client):
    answer = client.get("/portal/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
