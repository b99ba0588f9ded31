"""A task form (the renderer start forms share) shows every error of a submit at once, in the
same wording as a start form: what could not be read as a number and what is missing together."""

import json

import lxml.html

from app.engine import deploy_bundle, start_process
from app.extensions import db
from app.models import HumanTask
from tests.diagrams import user_task_process
from tests.factories import csrf_of, login, make_customer, make_user

PAY = {
    "type": "object",
    "properties": {
        "decision": {"type": "string", "title": "Decision", "enum": ["approve", "deny"]},
        "amount": {"type": "number", "title": "Amount", "minimum": 1},
        "reason": {"type": "string", "title": "Reason", "minLength": 1},
    },
    "required": ["decision", "reason"],
}
FORM = (
    '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="pay.json"/>'
    "</spiffworkflow:properties>"
)


def test_a_task_form_shows_the_unreadable_and_the_missing_fields_in_one_round(app, client):
    deploy_bundle([("tiny.bpmn", user_task_process(FORM)), ("pay.json", json.dumps(PAY).encode())])
    make_user("dave", "agent", password="pw")
    ticket, _ = start_process("tiny", make_customer().id, "Pay", {})
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    login(client, "dave")
    url = f"/inbox/tasks/{task.id}"
    token = csrf_of(client.get(url).get_data(as_text=True))
    answer = client.post(url, data={"amount": "lots", "csrf_token": token})
    assert answer.status_code == 422
    page = lxml.html.fromstring(answer.get_data(as_text=True))
    errors = {p.get("id"): p.text_content().strip() for p in page.xpath("//p[@class='error'][@id]")}
    assert errors == {
        "f-decision-error": "this field is required",
        "f-amount-error": "must be a number",
        "f-reason-error": "this field is required",
    }
    assert page.xpath("//input[@name='amount']/@value") == ["lots"]  # what was typed stays
