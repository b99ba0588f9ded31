"""In Chromium: a start form shows every error at once in one wording, the return form shows one
item row ("Add item" adds more), error pages look like the app, the site has a favicon, and the
admin asks where a leaving agent's tasks go.

With SCREENSHOTS=1 the tests save docs/screenshots/start-form-errors.png, return-form-one-row.png,
error-404-unknown.png and admin-deactivate.png.
"""

from app.engine import start_process
from app.extensions import db
from app.models import HumanTask, Ticket, User
from app.worker import drain
from tests.browser.test_inbox_browser import screenshot
from tests.factories import deploy_shipped, make_customer, make_customer_user, make_user


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "pw")
    page.click("button[type=submit]")


def _jane_on_the_return_form(new_page):
    deploy_shipped("return")
    make_customer_user("jane")
    page = new_page()
    sign_in(page, "jane")
    page.wait_for_url("**/portal/")
    page.goto("/portal/new/return")
    return page


def test_an_empty_return_form_marks_every_missing_field_at_once_in_one_wording(app, new_page):
    page = _jane_on_the_return_form(new_page)
    page.get_by_role("button", name="Open ticket").click()  # nothing typed
    page.wait_for_selector(".flash-error")
    errors = {
        el.get_attribute("id"): el.inner_text().strip()
        for el in page.locator("p.error[id$='-error']").element_handles()
    }
    assert errors == {
        "subject-error": "this field is required",
        "f-order_number-error": "this field is required",
        "f-items-error": "this field is required",
        "f-reason-error": "this field is required",
        "f-amount-error": "this field is required",
    }
    screenshot(page, "start-form-errors.png")

    # The second round brings no new kinds of errors: fill the marked fields and it opens.
    page.get_by_label("Subject").fill("Shoes arrived damaged")
    page.get_by_label("Order number").fill("SO-1001")
    page.get_by_label("Article number (SKU)").fill("SHOE-42")
    page.get_by_label("Damaged").check()
    page.get_by_label("Amount to pay back").fill("89.90")
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url("**/portal/tickets/*")
    db.session.expire_all()
    ticket = db.session.execute(db.select(Ticket)).scalar_one()
    assert ticket.data["items"] == [{"sku": "SHOE-42", "qty": 1}]


def test_the_browser_does_not_answer_for_the_server(app, new_page):
    page = _jane_on_the_return_form(new_page)
    page.get_by_label("Amount to pay back").fill("12.345")  # off the money field's 0.01 step
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_selector(".flash-error")  # the server answered: no browser bubble stopped the post
    assert page.locator("#subject-error").inner_text() == "this field is required"
    assert page.locator("form[novalidate]").count() == 1


def test_the_return_form_shows_one_item_row_and_add_item_adds_one(app, new_page):
    page = _jane_on_the_return_form(new_page)
    rows = page.locator("fieldset[data-array='items'] > .array-rows > .array-item")
    assert rows.count() == 1
    screenshot(page, "return-form-one-row.png")
    page.get_by_role("button", name="Add item").click()
    assert rows.count() == 2
    assert page.locator("input[name='items.1.sku']").is_visible()


def test_an_unknown_address_is_a_styled_404_with_a_way_back_and_no_trace(app, new_page):
    make_user("dave", "agent", teams=("support",), password="pw")
    page = new_page()
    sign_in(page, "dave")
    page.wait_for_url("**/inbox/**")
    response = page.goto("/no/such/page")
    assert response.status == 404
    assert page.title() == "Page not found · Ticketflow"
    assert page.locator("header.topbar").is_visible()
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "werkzeug" not in body.lower()
    screenshot(page, "error-404-unknown.png")
    page.get_by_role("link", name="Back to the inbox").click()
    page.wait_for_url("**/inbox/**")


def test_the_site_has_a_favicon(app, new_page):
    page = new_page()
    page.goto("/login")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href == "/static/favicon.svg"
    icon = page.request.get(href)
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    fallback = page.request.get("/favicon.ico")
    assert fallback.status == 200 and fallback.body() == icon.body()


def test_the_admin_is_asked_where_a_leaving_agent_s_tasks_go(app, new_page):
    deploy_shipped("general")
    dave = make_user("dave", "agent", teams=("support",), password="pw")
    start_process("general", make_customer().id, "Parcel", {"question": "Where?", "category": "delivery"})
    drain()
    make_user("erin", "agent", teams=("support",), password="pw")
    make_user("root", "admin", password="pw")
    page = new_page()
    sign_in(page, "root")
    page.goto(f"/admin/users/{dave.id}")
    page.get_by_label("Active (may sign in and receive tasks)").uncheck()
    handover = page.locator("fieldset#handover")
    assert "Dave holds 1 open task. If you deactivate them" in handover.inner_text()
    handover.get_by_label("to this agent:").check()
    handover.get_by_label("Agent who takes the open tasks").select_option(label="Erin (erin, agent)")
    screenshot(page, "admin-deactivate.png")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/admin/users")
    assert "1 open task went to Erin" in page.locator(".flash").inner_text()
    db.session.expire_all()
    erin = db.session.execute(db.select(User).where(User.username == "erin")).scalar_one()
    assert db.session.execute(db.select(HumanTask.assignee_id)).scalar_one() == erin.id
