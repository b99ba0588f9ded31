"""Defect 13 in a real Chromium: an agent who types "Dear Jane, … Kind regards, Alice" in the
general question's answer sends the customer a letter with one greeting and one signature."""

import re

from app.engine import start_process
from app.extensions import db
from app.models import OutboxMessage
from app.worker import drain
from tests.browser.test_portal_browser import sign_in
from tests.browser.test_return_journey import open_task
from tests.factories import deploy_shipped, make_customer_user, make_user

TYPED = "Dear Jane,\n\nYes, we ship to Norway within five days.\n\nKind regards,\nAlice"


def test_an_answer_typed_with_greeting_and_signature_reaches_the_customer_with_one_of_each(app, new_page):
    deploy_shipped("general")
    _, jane = make_customer_user("jane", name="Jane Doe")
    make_user("alice", "agent", teams=("support",), password="pw")
    ticket, _ = start_process(
        "general",
        jane.id,
        "Shipping to Norway",
        {"question": "Norway?", "category": "delivery"},
        actor="jane",
    )
    drain()

    agent = new_page()
    sign_in(agent, "alice")
    agent.wait_for_url("**/inbox/")
    open_task(agent, "Shipping to Norway", "Answer question")
    help_text = agent.locator("#f-answer-help").inner_text()
    assert "greeting" in help_text and "signature are added for you" in help_text
    agent.locator("#f-answer").fill(TYPED)
    agent.get_by_label("Information given").check()
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_url("**/inbox/")
    db.session.commit()
    db.session.expire_all()
    drain()

    [body] = (
        db.session.execute(db.select(OutboxMessage.body).where(OutboxMessage.ticket_id == ticket.id))
        .scalars()
        .all()
    )
    assert (
        body
        == "Dear Jane Doe,\n\nYes, we ship to Norway within five days.\n\nKind regards,\nCustomer service"
    )

    customer = new_page()
    sign_in(customer, "jane")
    customer.goto(f"/portal/tickets/{ticket.id}")
    seen = customer.locator(".conversation").inner_text()
    assert len(re.findall(r"\bDear\b", seen)) == 1
    assert len(re.findall(r"Kind regards", seen)) == 1
    assert "Alice" not in seen
