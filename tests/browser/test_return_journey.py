"""The issue's main proof, in a real Chromium with two people at once.

A customer opens a return request in the portal; an agent of the returns team finds it in the
inbox and asks for more details; the customer sees the question in the portal and answers; the
agent accepts with a refund and confirms the parcel arrived; the refund is issued (a ledger row)
and the customer sees the ticket closed as refunded. `drain()` plays the worker between steps.

With SCREENSHOTS=1 the test saves docs/screenshots/portal.png (the question in the portal).
"""

import os
from pathlib import Path

from app.extensions import db
from app.models import HumanTask, LedgerEntry, Ticket
from app.worker import drain
from tests.browser.test_portal_browser import sign_in
from tests.factories import deploy_shipped, make_customer_user, make_user

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def open_task(page, subject: str, title: str) -> None:
    """From the inbox, open the task `title` of the ticket `subject`."""
    page.goto("/inbox/")
    page.locator("tr", has_text=subject).get_by_role("link", name=title).click()
    page.wait_for_url("**/inbox/tasks/*")


def test_return_request_from_portal_to_refund(app, new_page):
    deploy_shipped("return")
    _, jane = make_customer_user("jane", name="Jane Doe")
    make_user("alice", "agent", teams=("returns",), password="pw")
    customer, agent = new_page(), new_page()

    # The customer opens a return request.
    sign_in(customer, "jane")
    customer.goto("/portal/new")
    customer.get_by_role("link", name="Return request").click()
    customer.get_by_label("Subject").fill("Shoes arrived damaged")
    customer.get_by_label("Order number").fill("SO-1001")
    customer.get_by_label("Article number (SKU)").first.fill("SHOE-42")
    customer.get_by_role("radio", name="Damaged").check()
    customer.get_by_label("Amount to pay back").fill("89.90")
    customer.get_by_role("button", name="Open ticket").click()
    customer.wait_for_url("**/portal/tickets/*")
    drain()
    db.session.expire_all()
    ticket = db.session.execute(db.select(Ticket).where(Ticket.customer_id == jane.id)).scalar_one()

    # The agent finds it in the inbox and asks for more details.
    sign_in(agent, "alice")
    agent.wait_for_url("**/inbox/")
    open_task(agent, "Shoes arrived damaged", "Review return request")
    assert "Jane Doe" in agent.locator("main").inner_text()
    agent.get_by_role("radio", name="More info").check()
    agent.get_by_label("Question for the customer").fill("Could you send a photo of the damaged sole?")
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_url("**/inbox/")
    drain()

    # The customer sees the question in the portal and answers it.
    customer.goto("/portal/")
    row = customer.locator("table.tickets tbody tr", has_text="Shoes arrived damaged")
    assert "Your answer is needed" in row.inner_text()
    row.get_by_role("link", name="Shoes arrived damaged").click()
    assert (
        "Could you send a photo of the damaged sole?"
        in customer.locator("blockquote.request-body").inner_text()
    )
    customer.get_by_label("Your answer", exact=True).fill("The left sole came off after one day.")
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        customer.screenshot(path=str(SHOTS / "portal.png"), full_page=True)
    customer.get_by_role("button", name="Send answer").click()
    assert "your answer was sent" in customer.locator(".flash").inner_text()
    assert customer.locator("blockquote.request-body").count() == 0
    drain()

    # The agent accepts with a refund, then confirms the parcel arrived.
    open_task(agent, "Shoes arrived damaged", "Review return request")
    assert "The left sole came off after one day." in agent.locator("main").inner_text()
    agent.get_by_role("radio", name="Accept").check()
    agent.get_by_role("radio", name="Refund").check()
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_url("**/inbox/")
    drain()
    db.session.expire_all()
    receive = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    assert receive.name == "receive_item"
    open_task(agent, "Shoes arrived damaged", receive.title)
    agent.get_by_label("Items received").check()
    agent.get_by_role("radio", name="As new").check()
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_url("**/inbox/")
    drain()

    # The refund is issued once, and the customer sees the ticket resolved.
    db.session.expire_all()
    refunds = (
        db.session.execute(db.select(LedgerEntry).where(LedgerEntry.ticket_id == ticket.id)).scalars().all()
    )
    assert [(r.kind, float(r.amount), r.customer_id) for r in refunds] == [("refund", 89.9, jane.id)]
    customer.goto(f"/portal/tickets/{ticket.id}")
    status = customer.locator("dd.status")
    assert (status.get_attribute("data-status"), status.get_attribute("data-resolution")) == (
        "closed",
        "refunded",
    )
    assert status.inner_text().split() == ["Closed", "Refunded"]
    assert "This ticket is closed" in customer.locator(".expectation").inner_text()
