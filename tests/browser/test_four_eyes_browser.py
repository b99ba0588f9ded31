"""Four eyes in a real Chromium: an agent proposes a credit above their approval limit, the team
lead finds the second approval in their inbox with both figures and approves it, and only then
is the customer told (an e-mail in the outbox, the ticket closed as approved in the portal).

With SCREENSHOTS=1 the test saves docs/screenshots/four-eyes.png (the lead's approval task) and
docs/screenshots/approval-limits.png (the admin page).
"""

import os
from decimal import Decimal
from pathlib import Path

from app.engine import complete_task, start_process
from app.extensions import db
from app.models import HumanTask, LedgerEntry, OutboxMessage, Ticket
from app.worker import drain
from tests.browser.test_portal_browser import sign_in
from tests.browser.test_return_journey import open_task
from tests.factories import deploy_shipped, make_customer_user, make_user, set_limits

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def work() -> None:
    """Play the worker after a browser step: first end this thread's transaction, whose snapshot
    (and identity map) predate what the live server just committed."""
    db.session.commit()
    db.session.expire_all()
    drain()


def _open_task_row(ticket_id):
    db.session.expire_all()
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket_id)).scalar_one()


def _mail_subjects(ticket_id):
    db.session.expire_all()
    return (
        db.session.execute(db.select(OutboxMessage.subject).where(OutboxMessage.ticket_id == ticket_id))
        .scalars()
        .all()
    )


def test_a_large_credit_is_approved_by_the_lead_before_the_customer_is_told(app, new_page):
    deploy_shipped("credit")
    _, jane = make_customer_user("jane", name="Jane Doe")
    alice = make_user("alice", "agent", teams=("credit",), password="pw")
    make_user("carol", "agent", teams=("credit",), lead=True, password="pw")
    make_user("root", "admin", password="pw")
    set_limits({"agent": 1000, "lead": 10000})
    ticket, _ = start_process(
        "credit",
        jane.id,
        "Credit for the spring stock",
        {"requested_amount": 5000, "purpose": "Stock"},
        actor="jane",
    )
    drain()
    complete_task(_open_task_row(ticket.id).id, {"data_complete": True}, alice)
    drain()
    agent, lead, customer = new_page(), new_page(), new_page()

    # The agent decides 3,000: below the assessment's proposal, above her own limit of 1,000.
    sign_in(agent, "alice")
    agent.wait_for_url("**/inbox/")
    open_task(agent, "Credit for the spring stock", "Decide on credit")
    agent.get_by_role("radio", name="Approve").check()
    agent.get_by_label("Approved amount (EUR)").fill("3000")
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_url("**/inbox/")
    work()
    assert _open_task_row(ticket.id).name == "approve_credit"
    assert not any("approved" in s for s in _mail_subjects(ticket.id))  # not told yet

    # The lead finds the approval in their inbox, sees both figures and approves.
    sign_in(lead, "carol")
    lead.wait_for_url("**/inbox/")
    open_task(lead, "Credit for the spring stock", "Approve credit (second approver)")
    main = lead.locator("main").inner_text()
    for figure in ("3000.00 EUR", "5000.00 EUR", "4950.00 EUR", "1000.00 EUR", "Alice"):
        assert figure in main, figure
    assert lead.get_by_label("Approved amount (EUR)").input_value() == "3000.00"
    assert (
        lead.locator("select[name=assignee] option", has_text="Alice").count() == 0
    )  # never to the proposer
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        lead.screenshot(path=str(SHOTS / "four-eyes.png"), full_page=True)
    lead.get_by_role("radio", name="Approve (this amount or a lower one)").check()
    lead.get_by_role("button", name="Complete task").click()
    lead.wait_for_url("**/inbox/")
    work()

    # Only now the customer is told, and the portal shows the ticket closed as approved.
    db.session.expire_all()
    ledger = (
        db.session.execute(db.select(LedgerEntry).where(LedgerEntry.ticket_id == ticket.id)).scalars().all()
    )
    assert [(e.kind, e.amount, e.currency) for e in ledger] == [("credit_balance", Decimal("3000.00"), "EUR")]
    assert any(s.endswith("Your credit request is approved") for s in _mail_subjects(ticket.id))
    sign_in(customer, "jane")
    customer.goto(f"/portal/tickets/{ticket.id}")
    status = customer.locator("dd.status")
    assert (status.get_attribute("data-status"), status.get_attribute("data-resolution")) == (
        "closed",
        "approved",
    )
    assert db.session.get(Ticket, ticket.id).status == "closed"

    # The admin page where the limits live.
    if os.environ.get("SCREENSHOTS") == "1":
        admin = new_page()
        sign_in(admin, "root")
        admin.goto("/admin/approval-limits")
        admin.screenshot(path=str(SHOTS / "approval-limits.png"), full_page=True)


def test_the_agent_who_proposed_sees_no_button_to_approve_their_own_figure(app, new_page):
    deploy_shipped("credit")
    _, jane = make_customer_user("jane", name="Jane Doe")
    carol = make_user("carol", "agent", teams=("credit",), lead=True, password="pw")
    set_limits({"agent": 1000, "lead": 10000})
    ticket, _ = start_process(
        "credit", jane.id, "Credit please", {"requested_amount": 9000, "purpose": "Stock"}
    )
    drain()
    complete_task(_open_task_row(ticket.id).id, {"data_complete": True}, carol)
    drain()
    complete_task(_open_task_row(ticket.id).id, {"decision": "approve", "approved_amount": 8000}, carol)
    drain()
    task = _open_task_row(ticket.id)
    assert (task.name, task.assignee_id, task.excluded_user_id) == ("approve_credit", None, carol.id)
    page = new_page()
    sign_in(page, "carol")
    page.wait_for_url("**/inbox/")
    page.goto(f"/inbox/tasks/{task.id}")
    assert page.get_by_role("button", name="Complete task").count() == 0
    assert page.get_by_role("button", name="Claim").count() == 0
