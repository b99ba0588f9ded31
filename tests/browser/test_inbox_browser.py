"""In a real Chromium: an agent signs in, opens a task, sends an invalid form, sees the errors next
to the fields with what they typed, fixes it and completes the task.

With SCREENSHOTS=1 the test saves docs/screenshots/inbox.png and task-form-errors.png.
"""

import os
from pathlib import Path

from flask import render_template_string

from app.engine import start_process
from app.extensions import db
from app.models import HumanTask, Ticket
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer, make_user

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def open_returns(agent_name: str = "alice") -> Ticket:
    deploy_shipped("return", "credit")
    make_user(agent_name, "agent", teams=("returns", "credit"), password="pw")
    tickets = []
    for name, subject, amount, tier in (
        ("Jane Doe", "Shoes arrived damaged", 89.9, "gold"),
        ("Omar Haddad", "Wrong size delivered", 45.0, "standard"),
        ("Lea Martin", "Jacket not as described", 129.0, "silver"),
    ):
        customer = make_customer(name=name, tier=tier)
        ticket, _ = start_process(
            "return", customer.id, subject, {**RETURN_START, "amount": amount}, actor="portal"
        )
        tickets.append(ticket)
    customer = make_customer(name="Ken Sato", tier="standard")
    start_process(
        "credit",
        customer.id,
        "Credit for the spring order",
        {"requested_amount": 2500, "purpose": "Stock for the spring season"},
        actor="portal",
    )
    drain()
    return tickets[0]


def test_agent_fixes_an_invalid_form_and_completes_the_task(app, new_page):
    ticket = open_returns()
    page = new_page()
    page.goto("/login")
    page.fill("#username", "alice")
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox/")
    assert page.locator("table.inbox tbody tr").count() == 4
    screenshot(page, "inbox.png")

    page.locator("tr", has_text="Shoes arrived damaged").get_by_role(
        "link", name="Review return request"
    ).click()
    page.wait_for_url("**/inbox/tasks/*")
    assert page.get_by_text("Jane Doe", exact=True).first.is_visible()
    page.get_by_role("radio", name="Reject").check()
    page.get_by_label("Internal notes").fill("Photos show wear, not transport damage.")
    page.get_by_role("button", name="Complete task").click()

    error = page.locator("#f-rejection_reason-error")
    assert error.inner_text() == "this field is required"
    assert page.get_by_label("Internal notes").input_value() == "Photos show wear, not transport damage."
    assert page.get_by_role("radio", name="Reject").is_checked()
    page.get_by_label("Reason for the rejection").focus()
    screenshot(page, "task-form-errors.png")

    page.get_by_label("Reason for the rejection").fill("The shoes were worn before they were sent back.")
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_url("**/inbox/")
    assert "Done: “Review return request”" in page.locator(".flash").inner_text()
    assert page.locator("table.inbox tbody tr", has_text="Shoes arrived damaged").count() == 0
    db.session.expire_all()
    assert db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).first() is None
    drain()
    closed = db.session.get(Ticket, ticket.id)
    assert (closed.status, closed.resolution) == ("closed", "rejected")


def test_add_item_adds_a_numbered_row_and_remove_takes_it_away(app, new_page, live_server):
    """The macro's static script, under a strict CSP (no inline scripts); without JavaScript the
    button posts and the server adds the row."""
    schema = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "object", "properties": {"sku": {"type": "string", "title": "SKU"}}},
            }
        },
    }
    with app.test_request_context():
        html = render_template_string(
            '<!doctype html>{% from "forms/macros.html" import form_fields %}'
            "<form>{{ form_fields(schema, {}, {}) }}</form>",
            schema=schema,
        )
    page = new_page()
    page.route(
        f"{live_server}/strict-csp-form",
        lambda route: route.fulfill(
            body=html, content_type="text/html", headers={"Content-Security-Policy": "script-src 'self'"}
        ),
    )
    page.goto("/strict-csp-form")
    page.get_by_role("button", name="Add item").click()
    names = page.locator("input[name^='items.']").evaluate_all("els => els.map(e => e.name)")
    assert names == ["items.0.sku", "items.1.sku"]  # one row for the one required item, then the new one
    page.locator(".array-item[data-index='1'] .remove-row").click()
    assert page.locator("input[name^='items.']").count() == 1
