"""In a real Chromium (issue 12): the inbox sorts by what its columns show, filters by status labels,
shows overdue tasks and SLA targets readably in the viewer's zone, keeps a stale answer, and a
300-character word never widens a page.

With SCREENSHOTS=1 the tests save docs/screenshots/inbox-sorted.png, task-overdue.png and
task-completed-meanwhile.png.
"""

from datetime import timedelta

from playwright.sync_api import expect

from app.engine import claim_task, complete_task, release_task, start_process
from app.extensions import db
from app.models import HumanTask, Ticket
from app.worker import drain
from tests.browser.test_inbox_browser import screenshot
from tests.browser.test_portal_browser import sign_in
from tests.engine.conftest import RETURN_START
from tests.factories import deploy_shipped, make_customer_user, make_user

COMPLAINT = {"description": "The courier threw the parcel over the fence.", "severity": "high"}
LONG_WORD = "Unbreakable" * 27 + "!!!"  # 300 characters, no space


def _open(ticket_type: str, subject: str, data: dict, customer_id: int) -> Ticket:
    ticket, _ = start_process(ticket_type, customer_id, subject, data, actor="portal")
    drain()
    return ticket


def _task_of(ticket: Ticket) -> HumanTask:
    db.session.expire_all()
    return db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_300_character_word_never_widens_a_page(app, new_page):
    deploy_shipped("return")
    make_user("alice", "agent", teams=("support", "returns"), lead=True, password="pw")
    _, jane = make_customer_user("jane")
    ticket = _open("return", LONG_WORD, RETURN_START, jane.id)
    task = _task_of(ticket)
    page = new_page()
    sign_in(page, "alice")
    page.wait_for_url("**/inbox/")
    for url in ("/inbox/", f"/inbox/tasks/{task.id}", f"/inbox/tickets/{ticket.id}", "/dashboard/tickets"):
        page.goto(url)
        assert LONG_WORD[:40] in page.locator("main").inner_text(), url
        assert _fits(page), url
    page.goto("/inbox/")
    assert (
        page.locator("table.inbox .clamp", has_text=LONG_WORD[:40]).get_attribute("title").endswith(LONG_WORD)
    )
    customer = new_page()
    sign_in(customer, "jane")
    for url in ("/portal/", f"/portal/tickets/{ticket.id}"):
        customer.goto(url)
        assert LONG_WORD[:40] in customer.locator("main").inner_text(), url
        assert _fits(customer), url


def test_sorting_by_sla_due_orders_by_the_sla_dates_shown(app, new_page):
    deploy_shipped("return", "complaint")
    make_user("alice", "agent", teams=("support", "returns"), password="pw")
    _, jane = make_customer_user("jane")
    for i, (kind, data) in enumerate(
        (("return", RETURN_START), ("complaint", COMPLAINT), ("return", RETURN_START))
    ):
        _open(kind, f"Ticket {i}", data, jane.id)
    page = new_page()
    sign_in(page, "alice")
    page.goto("/inbox/")
    page.get_by_role("link", name="SLA due").click()
    page.wait_for_url("**sort=sla**")
    header = page.locator("th", has_text="SLA due")
    assert header.get_attribute("aria-sort") == "ascending"
    shown = page.locator("[data-due='sla'] time").evaluate_all("els => els.map(e => e.dateTime)")
    assert len(shown) == 3 and shown == sorted(shown)
    screenshot(page, "inbox-sorted.png")
    page.get_by_role("link", name="SLA due").click()
    page.wait_for_url("**dir=desc**")
    assert page.locator("th", has_text="SLA due").get_attribute("aria-sort") == "descending"
    shown = page.locator("[data-due='sla'] time").evaluate_all("els => els.map(e => e.dateTime)")
    assert shown == sorted(shown, reverse=True)


def test_the_status_filter_is_a_choice_list_of_the_types_statuses(app, new_page):
    deploy_shipped("return", "complaint")
    make_user("alice", "agent", teams=("support", "returns"), password="pw")
    _, jane = make_customer_user("jane")
    ticket = _open("return", "Shoes arrived damaged", RETURN_START, jane.id)
    _open("complaint", "Parcel over the fence", COMPLAINT, jane.id)
    page = new_page()
    sign_in(page, "alice")
    page.goto("/inbox/")
    page.get_by_label("Ticket type").select_option("return")
    page.get_by_role("button", name="Apply").click()
    labels = page.locator("#filter-status option").all_inner_texts()
    assert "In progress" in labels and "in_progress" not in labels
    db.session.expire_all()
    current = db.session.get(Ticket, ticket.id).status
    label = current.replace("_", " ").capitalize()
    page.get_by_label("Ticket status").select_option(label=label)
    page.get_by_role("button", name="Apply").click()
    assert page.locator("table.inbox tbody tr").all_inner_texts()[0].count("Shoes arrived damaged") == 1
    assert page.locator("table.inbox tbody tr").count() == 1
    other = next(o for o in labels if o not in (label, "Any status"))
    page.get_by_label("Ticket status").select_option(label=other)
    page.get_by_role("button", name="Apply").click()
    assert "No tasks here with these filters" in page.locator("main").inner_text()


def test_an_overdue_task_reads_as_dates_in_the_viewers_zone_with_each_sla_target(app, new_page, clock):
    deploy_shipped("complaint")
    make_user("alice", "agent", teams=("support",), password="pw")
    _, jane = make_customer_user("jane")
    ticket = _open("complaint", "Parcel over the fence", COMPLAINT, jane.id)
    task = _task_of(ticket)
    row = db.session.get(Ticket, ticket.id)
    assert task.due_at is not None and row.first_response_due_at < row.sla_due_at
    clock.move_to(row.first_response_due_at + timedelta(hours=1))
    page = new_page()
    sign_in(page, "alice")
    page.goto("/inbox/")
    line = page.locator("tr", has_text="Parcel over the fence")
    assert line.locator("[data-target='first_response']").inner_text() == "First response breached"
    assert line.locator("[data-target='resolution']").inner_text() != "Resolution breached"
    task_due = line.locator("[data-due='task']").inner_text()
    assert task_due.startswith("Task due 1 hour ago · ") and task_due.endswith(("CET", "CEST"))
    assert line.locator("[data-due='sla']").inner_text().startswith("SLA due in ")
    assert "+00:00" not in page.locator("main").inner_text()

    page.goto(f"/inbox/tasks/{task.id}")
    assert "Task due 1 hour ago" in page.locator(".assignment").inner_text()
    assert page.locator("dd[data-target='first_response'] .badge").inner_text() == "breached"
    screenshot(page, "task-overdue.png")

    page.goto("/account/settings")
    page.get_by_label("Time zone").fill("America/New_York")
    page.get_by_role("button", name="Save").click()
    page.goto(f"/inbox/tasks/{task.id}")
    assert page.locator(".assignment").inner_text().endswith(("EST", "EDT"))
    iso = page.locator(".assignment time").get_attribute("datetime")
    assert iso.endswith("+00:00")  # machines still read UTC


def test_a_stale_completion_names_who_holds_the_task_and_keeps_the_answer(app, new_page):
    deploy_shipped("return")
    alice = make_user("alice", "agent", teams=("support",), password="pw")
    bob = make_user("bob", "agent", teams=("support",), password="pw")
    _, jane = make_customer_user("jane")
    task = _task_of(_open("return", "Shoes arrived damaged", RETURN_START, jane.id))
    page = new_page()
    sign_in(page, "alice")
    page.goto(f"/inbox/tasks/{task.id}")
    page.get_by_role("radio", name="Reject").check()
    page.get_by_label("Internal notes").fill("Photos show wear, not transport damage.")
    assert task.assignee_id == alice.id  # the team's round robin gave it to her
    release_task(task.id, alice)  # while she types, it goes back to the queue and Bob takes it
    claim_task(task.id, bob)
    page.get_by_role("button", name="Complete task").click()
    alert = page.locator(".task-form [role='alert']").first.inner_text()
    assert "Bob holds this task now" in alert and task.id not in alert
    assert page.get_by_label("Internal notes").input_value() == "Photos show wear, not transport damage."
    assert page.get_by_role("button", name="Complete task").count() == 0


def test_a_completion_after_bob_completed_the_task_names_him_and_shows_the_answer_to_copy(app, new_page):
    deploy_shipped("return")
    alice = make_user("alice", "agent", teams=("support",), password="pw")
    bob = make_user("bob", "agent", teams=("support",), password="pw")
    _, jane = make_customer_user("jane")
    task = _task_of(_open("return", "Shoes arrived damaged", RETURN_START, jane.id))
    page = new_page()
    sign_in(page, "alice")
    page.goto(f"/inbox/tasks/{task.id}")
    page.get_by_role("radio", name="Reject").check()
    page.get_by_label("Internal notes").fill("Photos show wear, not transport damage.")
    release_task(task.id, alice)  # while she types, Bob takes it and completes it
    claim_task(task.id, bob)
    complete_task(task.id, {"decision": "reject", "rejection_reason": "Worn soles"}, bob)
    page.get_by_role("button", name="Complete task").click()
    notice = page.locator("[role='alert']").first
    assert "Bob completed" in notice.locator(".completed-by").inner_text()
    assert page.get_by_label("Notes").input_value() == "Photos show wear, not transport damage."
    screenshot(page, "task-completed-meanwhile.png")


def test_the_inbox_refreshes_its_counts_and_says_what_is_new_without_a_reload(app, new_page, clock):
    deploy_shipped("return")
    make_user("alice", "agent", teams=("support",), password="pw")
    _, jane = make_customer_user("jane")
    _open("return", "Shoes arrived damaged", RETURN_START, jane.id)
    page = new_page()
    page.clock.install()  # htmx's "every 30s" runs on the page's clock: fast-forward it, never sleep
    sign_in(page, "alice")
    page.wait_for_url("**/inbox/")
    page.evaluate("window.__sameDocument = true")
    assert page.locator("[data-view='mine']").inner_text() == "1"
    clock.shift(timedelta(minutes=1))
    _open("return", "Wrong size delivered", RETURN_START, jane.id)
    with page.expect_response("**/inbox/counts**"):
        page.clock.run_for("00:31")
    # htmx swaps the counts in after the response event: wait for the text, never read it at once
    expect(page.locator("[data-view='mine']")).to_have_text("2")
    expect(page.locator("[data-new='mine']")).to_have_text("1 new")
    assert page.evaluate("window.__sameDocument") is True  # no reload
