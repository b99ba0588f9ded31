"""A complaint opened in the portal gets its priority from the DMN rules and lands with the team
the rules choose, visible in that team's inbox in a real Chromium."""

from pathlib import Path

from app.engine import deploy
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Ticket
from app.worker import drain
from tests.browser.test_portal_browser import sign_in
from tests.factories import deploy_shipped, make_customer_user, make_user

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def test_critical_complaint_is_urgent_and_lands_in_the_support_inbox(app, new_page):
    for dmn in sorted(PROCESSES.glob("*.dmn")):
        deploy(dmn.read_bytes())
    deploy_shipped("complaint")
    make_customer_user("jane", name="Jane Doe", tier="silver")
    make_user("dave", "agent", teams=("support",), password="pw")
    make_user("erin", "agent", teams=("customer-success",), password="pw")
    customer = new_page()

    sign_in(customer, "jane")
    customer.goto("/portal/new")
    customer.get_by_role("link", name="Complaint").first.click()
    customer.get_by_label("Subject").fill("Courier was rude")
    customer.get_by_label("What went wrong?").fill("The courier threw the parcel over the fence.")
    customer.get_by_role("radio", name="Critical").check()
    customer.get_by_role("button", name="Open ticket").click()
    customer.wait_for_url("**/portal/tickets/*")
    drain()

    ticket = db.session.execute(db.select(Ticket)).scalar_one()
    assert ticket.priority == "urgent"
    rule = db.session.execute(
        db.select(HistoryEvent.data).where(HistoryEvent.kind == "priority_set")
    ).scalar_one()
    assert "priority#" in rule["rule"]
    task = db.session.execute(db.select(HumanTask)).scalar_one()
    assert task.team == "support"

    agent = new_page()
    sign_in(agent, "dave")
    agent.wait_for_url("**/inbox/")
    row = agent.locator("tr", has_text="Courier was rude")
    assert row.count() == 1
    assert "urgent" in row.inner_text().lower()
    other = new_page()
    sign_in(other, "erin")
    other.wait_for_url("**/inbox/")
    assert other.locator("tr", has_text="Courier was rude").count() == 0
