"""/admin/webhooks in a browser: an admin subscribes a receiver, copies the secret shown once, and
sees the deliveries with their status code, time and error.

With SCREENSHOTS=1 the test saves docs/screenshots/admin-webhooks.png (a subscription's page with
a sent and a retried delivery).
"""

import os
from pathlib import Path

from app.engine import deploy, start_process
from app.extensions import db
from app.models import WebhookSubscription
from app.webhooks import deliver_due_webhooks
from tests.browser.test_csp_browser import _signed_in_page, _unexpected
from tests.diagrams import user_task_process
from tests.factories import make_customer, make_user
from tests.webhooks.conftest import receiver  # noqa: F401  (the loopback receiver fixture)

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_an_admin_subscribes_a_receiver_and_sees_its_deliveries(app, new_page, receiver):  # noqa: F811
    make_user("root", "admin", password="pw")
    page, errors = _signed_in_page(new_page, "root")
    page.goto("/admin/webhooks")
    page.get_by_role("link", name="New webhook").click()
    page.fill("#url", receiver.url)
    page.fill("#description", "CRM sync")
    page.get_by_label("incident.opened").uncheck()
    page.get_by_role("button", name="Create").click()
    secret = page.locator("#secret").input_value()
    row = db.session.execute(db.select(WebhookSubscription)).scalar_one()
    assert secret == row.secret and secret.startswith("whsec_")
    assert "incident.opened" not in row.events and "ticket.opened" in row.events
    page.get_by_role("link", name="Done").click()
    assert secret not in page.content()

    deploy(user_task_process())
    customer = make_customer()
    receiver.statuses = [503]
    start_process("tiny", customer.id, "Parcel never arrived", {})
    start_process("tiny", customer.id, "Wrong size", {})
    while deliver_due_webhooks():
        pass
    page.reload()
    assert "HTTP 503: receiver says no" in page.content()
    assert page.locator("span.badge", has_text="sent").count() >= 1
    assert page.evaluate("window.__violations") == [] and _unexpected(errors) == []
    if os.environ.get("SCREENSHOTS") == "1":
        page.screenshot(path=str(SHOTS / "admin-webhooks.png"), full_page=True)
    page.goto("/admin/webhooks")
    assert "CRM sync" in page.content()
    assert page.evaluate("window.__violations") == []
