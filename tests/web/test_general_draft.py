"""General question, "keep working": the agent's draft answer comes back in the next round's form."""

import lxml.html

from app.engine import start_process
from app.extensions import db
from app.models import HumanTask, OutboxMessage
from app.worker import drain
from tests.factories import csrf_of, deploy_shipped, login, make_customer, make_user


def _open_task(ticket_id: int) -> HumanTask:
    """The ticket's one open task (human_task rows are open tasks only)."""
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()


def _answer_field(client, task_id: str) -> str:
    page = lxml.html.fromstring(client.get(f"/inbox/tasks/{task_id}").get_data(as_text=True))
    [field] = page.xpath("//textarea[@name='answer']")
    return field.text or ""


def _submit(client, task_id: str, **fields):
    page = client.get(f"/inbox/tasks/{task_id}").get_data(as_text=True)
    return client.post(f"/inbox/tasks/{task_id}", data={**fields, "csrf_token": csrf_of(page)})


def test_keep_working_brings_the_draft_answer_back_in_the_next_round(app, client):
    deploy_shipped("general")
    make_user("dave", "agent", teams=("support",), password="pw")
    ticket, _ = start_process(
        "general", make_customer().id, "Parcel", {"question": "Where is it?", "category": "delivery"}
    )
    drain()
    login(client, "dave")
    first = _open_task(ticket.id)
    assert _answer_field(client, first.id) == ""

    answer = _submit(client, first.id, answer="It left our warehouse on Monday; ")
    assert answer.status_code == 302  # information not given yet: the question comes back
    drain()
    second = _open_task(ticket.id)
    assert second.id != first.id and second.name == "answer_question"
    assert _answer_field(client, second.id) == "It left our warehouse on Monday; "

    answer = _submit(
        client,
        second.id,
        answer="It left our warehouse on Monday; it arrives Friday.",
        information_given="true",
    )
    assert answer.status_code == 302
    drain()
    mail = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)).scalars()
    assert any("it arrives Friday." in m.body for m in mail)
