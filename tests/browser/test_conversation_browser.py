"""In a real Chromium: a customer writes on a closed ticket and the team sees it; an agent inserts a
canned reply and adds an internal note the customer never sees.

With SCREENSHOTS=1 the tests save docs/screenshots/portal-ticket-closed.png, inbox-customer-wrote.png,
inbox-customer-wrote-view.png, ticket-notes-replies.png and canned-replies.png.
"""

import os
from pathlib import Path

from app.extensions import db
from app.models import CannedReply, Ticket
from tests.conversation.desk import Desk
from tests.factories import deploy_shipped, make_customer_user, make_user

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def sign_in(page, username: str, password: str = "pw") -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _desk() -> Desk:
    deploy_shipped()
    agent = make_user("alice", "agent", teams=("support", "customer-success"), password="pw")
    lead = make_user("lena", "agent", teams=("support", "customer-success"), lead=True, password="pw")
    user, customer = make_customer_user("jane", name="Jane Doe")
    return Desk(agent=agent, lead=lead, user=user, customer=customer)


def test_a_customer_writes_on_a_closed_ticket_and_it_shows_up_in_the_teams_inbox(app, new_page):
    desk = _desk()
    ticket = desk.closed_complaint()

    portal = new_page()
    sign_in(portal, "jane")
    portal.wait_for_url("**/portal/")
    portal.get_by_role("link", name="Rude courier").click()
    status = portal.locator("dd.status").inner_text()
    assert "Closed" in status and "atisfactory" not in status
    assert "The courier was rude" in portal.locator(".request-answers").inner_text()
    screenshot(portal, "portal-ticket-closed.png")
    portal.get_by_label("Your message").fill("The voucher never arrived, can you check?")
    portal.get_by_role("button", name="Send message").click()
    assert "our team was told" in portal.locator(".flash").inner_text()

    inbox = new_page()
    sign_in(inbox, "alice")
    inbox.goto("/inbox/?view=team")
    row = inbox.locator("tbody tr", has_text="Read the customer's message")
    assert row.count() == 1 and "customer wrote" in row.inner_text()
    screenshot(inbox, "inbox-customer-wrote.png")
    inbox.get_by_role("link", name="Customer wrote").click()
    listed = inbox.locator("table.customer-wrote-list tbody tr", has_text="Rude courier")
    assert listed.count() == 1
    screenshot(inbox, "inbox-customer-wrote-view.png")

    listed.get_by_role("link", name=f"#{ticket.id} Rude courier").click()
    assert "The voucher never arrived" in inbox.locator(".conversation").inner_text()
    assert "reopened" in inbox.locator(".timeline").inner_text()
    inbox.get_by_role("button", name="Mark as read").click()
    assert "marked as read" in inbox.locator(".flash").inner_text()
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.customer_unread_since) == ("closed", None)


def test_an_agent_inserts_a_canned_reply_and_adds_an_internal_note(app, new_page):
    desk = _desk()
    db.session.add(
        CannedReply(
            name="Looking into it",
            team_key="support",
            body="Dear {{ customer.name }}, we are looking into ticket {{ ticket.reference }}.",
        )
    )
    db.session.commit()
    ticket = desk.open()

    page = new_page()
    sign_in(page, "lena")
    page.goto(f"/inbox/tickets/{ticket.id}")
    page.get_by_label("Canned reply").select_option(label="Looking into it")
    page.get_by_role("button", name="Insert").click()
    assert page.get_by_label("Message").input_value() == (
        f"Dear Jane Doe, we are looking into ticket #{ticket.id}."
    )
    page.get_by_label("Note for your colleagues").fill("Courier company called back: driver identified.")
    page.get_by_role("button", name="Add note").click()
    note = page.locator(".timeline .internal-note", has_text="driver identified")
    assert note.count() == 1
    screenshot(page, "ticket-notes-replies.png")
    page.goto("/inbox/replies")
    assert "Looking into it" in page.locator("main").inner_text()
    screenshot(page, "canned-replies.png")

    portal = new_page()
    sign_in(portal, "jane")
    portal.goto(f"/portal/tickets/{ticket.id}")
    assert "driver identified" not in portal.locator("main").inner_text()
