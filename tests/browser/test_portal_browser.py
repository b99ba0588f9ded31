"""In a real Chromium: a customer opens a general question in the portal and finds it in their list."""

from app.extensions import db
from app.models import Ticket
from app.worker import drain
from tests.factories import deploy_shipped, make_customer_user


def sign_in(page, username: str, password: str = "pw") -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_customer_opens_a_general_question_and_sees_it_in_their_list(app, new_page):
    deploy_shipped("general", "return")
    _, jane = make_customer_user("jane")
    page = new_page()
    sign_in(page, "jane")
    page.wait_for_url("**/portal/")
    assert "You have no tickets yet" in page.locator("main").inner_text()

    page.get_by_role("link", name="Open a ticket").first.click()
    page.get_by_role("link", name="General question").click()
    page.wait_for_url("**/portal/new/general")
    page.get_by_label("Subject").fill("Do you ship to Norway?")
    page.get_by_label("Your question").fill("I live in Oslo. Can I order from your shop?")
    page.get_by_label("Topic").select_option("delivery")
    page.get_by_role("button", name="Open ticket").click()

    page.wait_for_url("**/portal/tickets/*")
    assert "is open" in page.locator(".flash").inner_text()
    db.session.expire_all()
    ticket = db.session.execute(db.select(Ticket).where(Ticket.customer_id == jane.id)).scalar_one()
    assert (ticket.type, ticket.data["category"]) == ("general", "delivery")
    drain()

    page.get_by_role("link", name="My tickets").first.click()
    row = page.locator("table.tickets tbody tr", has_text="Do you ship to Norway?")
    assert row.count() == 1
    assert row.locator("td.status").inner_text().strip() == "In progress"
    assert row.locator("td.status").get_attribute("data-status") == "in_progress"
