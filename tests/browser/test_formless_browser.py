"""In a real Chromium: an agent completes a task without a form, first with invalid JSON in the
optional process-data field (an error next to it, what was typed kept), then with valid JSON that
the following gateway reads.

With SCREENSHOTS=1 the test saves docs/screenshots/task-formless.png.
"""

from app.engine import start_process
from app.extensions import db
from app.models import HumanTask
from tests.browser.test_inbox_browser import screenshot
from tests.diagrams import gateway_process
from tests.factories import make_customer, make_user


def test_agent_completes_a_formless_task_with_json_data(app, new_page):
    from app.engine import deploy

    deploy(gateway_process("approved == True"), actor="test")
    make_user("alice", "agent", teams=("support",), password="pw")
    ticket, _ = start_process("gw", make_customer().id, "Check the delivery address", {}, actor="portal")
    page = new_page()
    page.goto("/login")
    page.fill("#username", "alice")
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox/**")
    task_id = db.session.execute(db.select(HumanTask.id).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    page.goto(f"/inbox/tasks/{task_id}")

    field = page.get_by_label("Process data")
    field.fill('{"approved": yes}')
    page.get_by_role("button", name="Complete task").click()
    error = page.locator("#process_data-error")
    assert "not valid JSON" in error.inner_text()
    assert page.get_by_label("Process data").input_value() == '{"approved": yes}'
    assert page.get_by_label("Process data").get_attribute("aria-invalid") == "true"
    screenshot(page, "task-formless.png")

    page.get_by_label("Process data").fill('{"approved": true, "note": "address confirmed"}')
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_url("**/inbox/")
    assert "Done: “Decide”" in page.locator(".flash").inner_text()
    db.session.rollback()  # end the read transaction: see what the server committed
    names = (
        db.session.execute(db.select(HumanTask.name).where(HumanTask.ticket_id == ticket.id)).scalars().all()
    )
    assert names == ["yes"]
