"""In a real Chromium: a manager opens a ticket whose refund failed, sees the failed step
highlighted on the diagram, edits the process data, sees exactly what changes, retries, and the
ticket moves on to its next task; then retries incidents from the list after confirming them. No
CSP violation and no console error on the way.

With SCREENSHOTS=1 the test saves docs/screenshots/dashboard-ticket.png (the incident on the
diagram), dashboard-retry-preview.png and dashboard-incidents.png.
"""

import json

from app.engine import deploy
from app.extensions import db
from app.models import HumanTask, Incident
from app.worker import drain
from tests.browser.test_csp_browser import WATCH, _unexpected
from tests.browser.test_inbox_browser import screenshot
from tests.dashboard.conftest import open_failed_refund
from tests.dashboard.diagrams import REFUND_XML
from tests.factories import make_customer_user, make_user


def _world():
    deploy(REFUND_XML)
    make_user("max", "manager", password="pw")
    make_customer_user("jane", name="Jane Doe")
    db.session.commit()
    refunds = [
        open_failed_refund(-5, "Refund for order SO-1077"),
        open_failed_refund(-12, "Refund for order SO-1080"),
        open_failed_refund(-3.5, "Refund for order SO-1093"),
    ]
    return refunds


def _signed_in(new_page):
    page = new_page()
    page.add_init_script(WATCH)
    errors = []
    page.on(
        "console", lambda m: errors.append((m.text, m.location.get("url", ""))) if m.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append((str(exc), "")))
    page.goto("/login")
    page.fill("#username", "max")
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page, errors


def _clean(page, errors):
    assert page.evaluate("window.__violations") == []
    assert _unexpected(errors) == []


def test_manager_fixes_the_data_of_a_failed_refund_and_the_ticket_moves_on(app, new_page):
    refund, *_ = _world()
    page, errors = _signed_in(new_page)
    page.goto(f"/dashboard/tickets/{refund.ticket_id}")
    page.wait_for_selector("#instance-diagram[data-ready=true]")
    failed = page.locator('g.djs-element[data-element-id="issue_refund"]')
    assert "state-incident" in failed.get_attribute("class")
    assert "state-completed" in page.locator('g.djs-element[data-element-id="start"]').get_attribute("class")
    assert page.locator(".badge-incident").first.is_visible()
    stroke = failed.locator(".djs-visual > :first-child").evaluate("e => getComputedStyle(e).stroke")
    assert stroke == "rgb(198, 40, 40)"  # the legend's incident red
    _clean(page, errors)
    screenshot(page, "dashboard-ticket.png")

    page.get_by_text("Edit the data and retry…").click()
    box = page.locator(f"#data-{refund.incident_id}")
    data = json.loads(box.input_value())
    assert data["amount"] == -5
    box.fill(json.dumps({**data, "amount": 12.5, "approved_by": "max"}, indent=2))
    page.get_by_role("button", name="Preview the changes").click()
    page.wait_for_load_state()
    preview = page.locator("#preview table.data-diff")
    assert preview.locator("tr.diff-changed").inner_text().split() == ["changed", "amount", "-5", "12.5"]
    assert preview.locator("tr.diff-added").inner_text().split() == ["added", "approved_by", "—", '"max"']
    assert preview.locator("tbody tr").count() == 2
    assert db.session.get(Incident, refund.incident_id).resolved_at is None  # nothing applied yet
    _clean(page, errors)
    screenshot(page, "dashboard-retry-preview.png")

    page.get_by_role("button", name="Apply and retry").click()
    page.wait_for_load_state()
    assert "being retried with the edited data" in page.locator(".flash").inner_text()
    drain()  # the worker runs the refund again, with the new amount
    task = db.session.execute(
        db.select(HumanTask).where(HumanTask.ticket_id == refund.ticket_id)
    ).scalar_one()
    assert task.name == "confirm_refund"
    page.reload()
    page.wait_for_selector("#instance-diagram[data-ready=true]")
    assert "state-completed" in page.locator('g.djs-element[data-element-id="issue_refund"]').get_attribute(
        "class"
    )
    assert "state-active" in page.locator('g.djs-element[data-element-id="confirm_refund"]').get_attribute(
        "class"
    )
    assert "state-waiting" in page.locator('g.djs-element[data-element-id="reminder"]').get_attribute("class")
    assert page.locator(".badge-due").count() == 1
    timeline = page.locator(".timeline").inner_text()
    assert "after editing the data" in timeline and "the incident is resolved" in timeline
    assert page.locator("section.incidents").count() == 0
    _clean(page, errors)


def test_manager_retries_a_confirmed_selection_from_the_incident_list(app, new_page):
    first, second, third = _world()
    page, errors = _signed_in(new_page)
    page.goto("/dashboard/incidents")
    assert page.locator("table.incident-list tbody tr").count() == 3
    _clean(page, errors)
    screenshot(page, "dashboard-incidents.png")
    page.check(f"#select-{first.incident_id}")
    page.check(f"#select-{third.incident_id}")
    page.get_by_role("button", name="Retry the selected…").click()
    page.wait_for_load_state()
    assert "These 2 incidents will be retried now" in page.locator("#confirm").inner_text()
    assert page.locator(".retry-list li").count() == 2
    page.get_by_role("button", name="Retry these 2").click()
    page.wait_for_load_state()
    assert (
        f"Retried 2 incident(s): {first.incident_id}, {third.incident_id}."
        in page.locator(".flash").inner_text()
    )
    assert db.session.get(Incident, second.incident_id).resolved_at is None
    _clean(page, errors)
