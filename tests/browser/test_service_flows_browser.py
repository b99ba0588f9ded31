"""In a real Chromium: the order and onboarding flows as a customer and the agents live them.

Order: the shop opens the ticket and the payment provider reports a failed payment through
`POST /api/v1/messages` (found by the order number alone); the customer sees in the portal that
the order waits for payment; the billing agent resolves the payment in the inbox; the warehouse
and the carrier report through the API and the customer follows the status to "Delivered".

Onboarding: the new customer sets up the account by answering in the portal; a customer who never
engages is classified "not engaged" when the period is over (the clock moved through the
timers), and the customer-success agent reaches out from the inbox with the verdict on the
profile. No CSP violation and no console error on the way.

With SCREENSHOTS=1 the tests save docs/screenshots/portal-order.png, inbox-billing-task.png,
and inbox-reach-out.png; the manager sees both diagrams in the dashboard's instance viewer.
"""

from datetime import datetime

from app.accounts import new_token
from app.engine import start_process, waiting_of
from app.extensions import db
from app.models import Customer, HumanTask, Ticket, User
from app.worker import drain
from tests.browser.test_csp_browser import WATCH, _unexpected
from tests.browser.test_inbox_browser import screenshot
from tests.factories import deploy_shipped, make_customer_user, make_user

ORDER_START = {"order_number": "SO-4711", "amount": 149.0, "payment_method": "card"}


def _sign_in(new_page, username):
    page = new_page()
    page.add_init_script(WATCH)
    errors = []
    page.on(
        "console", lambda m: errors.append((m.text, m.location.get("url", ""))) if m.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append((str(exc), "")))
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page, errors


def _clean(page, errors):
    assert page.evaluate("window.__violations") == []
    assert _unexpected(errors) == []


def _shop_says(app, name, payload):
    """The back office (a token with the messages scope) posts a message with the order number only."""
    shop = db.session.execute(db.select(User).where(User.username == "shop")).scalar() or make_user(
        "shop", "agent"
    )
    token = new_token(shop, scopes=("messages",))
    db.session.commit()
    response = app.test_client().post(
        "/api/v1/messages",
        json={"name": name, "payload": payload},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    _work()
    return response.get_json()


def _work():
    """Run the worker on what the pages committed (ending the test's own read transaction first)."""
    db.session.remove()
    drain()


def _diagram_drawn(new_page, ticket_id, active):
    """The manager sees the ticket's diagram in the dashboard's instance viewer, `active` marked."""
    page, errors = _sign_in(new_page, "max")
    page.goto(f"/dashboard/tickets/{ticket_id}")
    page.wait_for_selector("#instance-diagram[data-ready=true]")
    element = page.locator(f'g.djs-element[data-element-id="{active}"]')
    assert "state-" in (element.get_attribute("class") or "")
    _clean(page, errors)


def test_a_customer_follows_an_order_and_billing_resolves_its_failed_payment(app, new_page):
    deploy_shipped("order")
    make_user("frank", "agent", teams=("billing", "support"), password="pw", skills="billing")
    make_user("max", "manager", password="pw")
    _, jane = make_customer_user("jane", name="Jane Doe")
    ticket, _ = start_process("order", jane.id, "Order SO-4711", ORDER_START, actor="shop")
    drain()
    failed = _shop_says(
        app, "payment_processed", {"order_number": "SO-4711", "status": "failed", "reason": "card declined"}
    )
    assert (failed["ticket_id"], failed["element_id"]) == (ticket.id, "payment_answer")

    customer, errors = _sign_in(new_page, "jane")
    row = customer.locator("table.tickets tbody tr", has_text="Order SO-4711")
    assert row.locator("td.status").inner_text().strip() == "Waiting for your payment"
    row.get_by_role("link").first.click()
    customer.wait_for_url(f"**/portal/tickets/{ticket.id}")
    assert "we could not take the payment for your order SO-4711" in customer.content()
    _clean(customer, errors)

    agent, agent_errors = _sign_in(new_page, "frank")
    agent.locator("tr", has_text="Order SO-4711").get_by_role(
        "link", name="Resolve the failed payment"
    ).click()
    agent.wait_for_url("**/inbox/tasks/*")
    assert "card declined" in agent.content()
    screenshot(agent, "inbox-billing-task.png")
    agent.get_by_role("radio", name="Paid").check()
    agent.get_by_label("Internal notes").fill("The customer paid by bank transfer.")
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_load_state()
    assert "Done: “Resolve the failed payment”" in agent.locator(".flash").inner_text()
    _clean(agent, agent_errors)
    _work()
    _shop_says(app, "label_created", {"order_number": "SO-4711"})
    _shop_says(
        app, "dispatched", {"order_number": "SO-4711", "carrier": "DHL", "tracking_number": "JD014600"}
    )
    customer.reload()
    status = customer.locator("dd.status")
    assert status.get_attribute("data-status") == "dispatched"
    assert status.inner_text().strip() == "On its way"
    assert "Tracking number: JD014600" in customer.content()
    screenshot(customer, "portal-order.png")
    _diagram_drawn(new_page, ticket.id, "delivery_confirmed")

    _shop_says(app, "delivered", {"order_number": "SO-4711"})
    customer.reload()
    assert customer.locator("dd.status").get_attribute("data-resolution") == "delivered"
    assert "Delivered" in customer.locator("dd.status").inner_text()
    _clean(customer, errors)


def _run_out_the_clock(clock, instance_id):
    """Move the clock to each timer the onboarding waits for, until it waits for none."""
    while timers := waiting_of(instance_id)["timers"]:
        clock.move_to(min(datetime.fromisoformat(t["due_at"]) for t in timers))
        drain()


def test_a_new_customer_sets_up_the_account_and_success_reaches_out_to_one_who_never_engaged(
    app, new_page, clock
):
    deploy_shipped("onboarding")
    make_user("erin", "agent", teams=("customer-success",), lead=True, password="pw", skills="success")
    make_user("max", "manager", password="pw")
    _, jane = make_customer_user("jane", name="Jane Doe")
    _, omar = make_customer_user("omar", name="Omar Haddad")
    joined, joined_instance = start_process(
        "onboarding", jane.id, "Welcome, Jane", {"trigger": "registration"}
    )
    silent, silent_instance = start_process(
        "onboarding", omar.id, "Welcome, Omar", {"trigger": "first_purchase"}
    )
    drain()

    customer, errors = _sign_in(new_page, "jane")
    customer.locator("table.tickets tbody tr", has_text="Welcome, Jane").get_by_role("link").first.click()
    assert "please set it up by answering this message in the customer portal" in customer.content()
    customer.fill("#message", "Please write to me by e-mail about kettles.")
    customer.get_by_role("button", name="Send answer").click()
    customer.wait_for_load_state()
    _work()
    customer.reload()
    assert "your account is set up" in customer.content()
    _clean(customer, errors)

    _run_out_the_clock(clock, silent_instance.id)
    _run_out_the_clock(clock, joined_instance.id)
    db.session.expire_all()
    assert db.session.get(Customer, jane.id).engagement == "engaged"
    assert db.session.get(Customer, omar.id).engagement == "not_engaged"
    assert db.session.get(Ticket, joined.id).resolution == "engaged"
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == silent.id)).scalar_one()
    assert task.name == "reach_out"

    agent, agent_errors = _sign_in(new_page, "erin")
    agent.goto(f"/inbox/tasks/{task.id}")
    assert agent.locator(".customer-profile .engagement").inner_text().startswith("not engaged")
    screenshot(agent, "inbox-reach-out.png")
    agent.get_by_label("I talked to the customer").check()
    agent.get_by_role("radio", name="Needs help").check()
    agent.get_by_label("What was said").fill("Did not find the tutorials; sent him a video.")
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_load_state()
    assert "Done:" in agent.locator(".flash").inner_text()
    _clean(agent, agent_errors)
    _work()
    assert db.session.get(Ticket, silent.id).resolution == "not_engaged"
    _diagram_drawn(new_page, silent.id, "reach_out")
