"""The studio against the REAL server (no fake), in a real Chromium under the app's CSP.

An analyst creates a ticket type from the template, saves and deploys it (version 1 in the Versions
tab); a customer opens a ticket of it in the portal and an agent of the default team completes its
task in the inbox; the analyst edits the user task's instructions (previewed as the agent will read
them) and draws a new user task with the mouse (bpmnlint marks it: no form, Deploy disabled), makes
its form in the form editor (preview by our renderer), attaches it in the properties panel (the
marker goes), sees the diff against version 1 and deploys version 2, while a ticket started on
version 1 stays on it; a pre-script the safe evaluator refuses is a marker on the task and disables
Deploy until fixed; version 1 opens read-only and is restored as the draft from there.

With SCREENSHOTS=1 the list and the diff are saved to docs/screenshots/.
"""

import pytest

from app.extensions import db
from app.models import ProcessDefinition, ProcessInstance, Ticket
from app.worker import drain
from tests.browser.test_portal_browser import sign_in
from tests.browser.test_studio import BUNDLE, WATCH, select, shot
from tests.factories import make_customer_user, make_user


def watched(new_page):
    page = new_page()
    page.add_init_script(WATCH)
    errors = []
    page.on("console", lambda msg: errors.append(msg) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def unexpected(errors) -> list[str]:
    """Console errors, less the browser's own failed load of the favicon (the app has none)."""
    texts = [
        getattr(e, "text", e)
        for e in errors
        if not str(getattr(e, "location", {}).get("url", "")).endswith("/favicon.ico")
    ]
    return [str(t) for t in texts]


def open_ticket(page, subject: str) -> Ticket:
    page.goto("/portal/new/warranty")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Description").fill("The kettle stopped heating after a week.")
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url("**/portal/tickets/*")
    drain()
    db.session.expire_all()
    return db.session.execute(db.select(Ticket).where(Ticket.subject == subject)).scalar_one()


def instance_of(ticket: Ticket) -> ProcessInstance:
    query = db.select(ProcessInstance).where(ProcessInstance.ticket_id == ticket.id)
    return db.session.execute(query).scalar_one()


def draw_user_task(page) -> str:
    """Draw a user task with the mouse: move the end event to the right (room for the task), take a task from the
    palette and drop it on the flow into the end, then change it into a user task with the
    context pad's replace menu. Returns its id."""
    page.evaluate("window.studioModeler.get('selection').select(null)")
    end = page.locator(".djs-element[data-element-id=end_warranty]").bounding_box()
    x, y = end["x"] + end["width"] / 2, end["y"] + end["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 50, y, steps=4)
    page.mouse.move(x + 100, y, steps=4)  # still inside the pool
    page.mouse.up()
    flow = page.locator(".djs-element[data-element-id=flow_handle_to_end]").bounding_box()
    page.locator(".djs-palette .entry[data-action='create.task']").click()
    fx, fy = flow["x"] + flow["width"] / 2 + 40, flow["y"] + flow["height"] / 2
    page.mouse.move(fx - 30, fy + 30, steps=3)
    page.mouse.move(fx, fy, steps=3)
    page.mouse.click(fx, fy)
    task = page.evaluate("window.studioModeler.get('selection').get()[0].id")
    page.locator(".djs-context-pad .entry[data-action='replace']").click()
    page.locator(".djs-popup .entry[data-id='replace-with-user-task']").click()
    kind = page.evaluate("id => window.studioModeler.get('elementRegistry').get(id).type", task)
    assert kind == "bpmn:UserTask"
    return task


def test_a_type_made_in_the_studio_goes_live_and_changes_without_touching_running_tickets(app, new_page):
    if not BUNDLE.exists():
        pytest.fail("the studio's bundle is missing: run `make studio` (npm ci + esbuild)")
    team = app.config["DEFAULT_TEAM"]
    make_user("ana", "analyst", password="pw")
    make_user("alice", "agent", teams=(team,), password="pw")
    make_customer_user("jane", name="Jane Doe")
    page, errors = watched(new_page)

    # 1. The analyst creates the type from the template, saves and deploys it.
    sign_in(page, "ana")
    page.wait_for_url("**/studio/")
    page.get_by_role("button", name="New ticket type").click()
    page.fill("#new-type-key", "warranty")
    page.fill("#new-type-name", "Warranty claim")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/studio/types/warranty")
    page.wait_for_selector("#studio-editor[data-ready=true]")
    assert page.locator(".djs-element[data-element-id=handle_request]").count() == 1
    assert page.locator(".djs-element[data-element-id=start_warranty]").count() == 1
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status[data-kind=ok]")
    assert page.locator("#deploy").is_enabled()
    page.locator("#deploy").click()
    page.fill("#deploy-comment", "First version of warranty claims")
    page.locator("#deploy-dialog").get_by_role("button", name="Deploy").click()
    page.wait_for_selector("#status:has-text('Deployed version 1')")
    page.get_by_role("tab", name="Versions").click()
    row = page.locator("#versions tbody tr[data-version='1']")
    row.wait_for()
    assert "First version of warranty claims" in row.inner_text() and "ana" in row.inner_text()

    # 2. A customer opens a ticket of the new type; an agent of the default team completes it.
    customer, customer_errors = watched(new_page)
    sign_in(customer, "jane")
    customer.wait_for_url("**/portal/")
    customer.goto("/portal/new")
    customer.get_by_role("link", name="Warranty claim").click()
    first = open_ticket(customer, "Kettle broken")
    assert first.type == "warranty"
    agent, agent_errors = watched(new_page)
    sign_in(agent, "alice")
    agent.wait_for_url("**/inbox/")
    agent.goto("/inbox/")
    agent.locator("tr", has_text="Kettle broken").get_by_role("link", name="Handle the request").click()
    agent.wait_for_url("**/inbox/tasks/*")
    assert "Read the request and do what it asks." in agent.locator("main").inner_text()
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_url("**/inbox/")
    drain()
    db.session.expire_all()
    assert instance_of(first).status == "completed"
    running = open_ticket(customer, "Toaster broken")  # stays running on version 1

    # 3. The analyst edits the task's instructions, sees the diff, deploys version 2.
    page.goto("/studio/")
    list_row = page.locator("#types tbody tr[data-key=warranty]")
    list_row.wait_for()
    assert "v1" in list_row.inner_text() and "v1: 1" in list_row.inner_text()
    shot(page, "studio-list.png")
    list_row.get_by_role("link", name="Warranty claim").click()
    page.wait_for_selector("#studio-editor[data-ready=true]")
    select(page, "handle_request")
    page.fill("textarea[name=spiff-instructions]", "Check the **receipt date** first, {{ description }}")
    page.fill("#studio-instructions-sample", '{"description": "<i>kettle</i>"}')
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.locator(".studio-instructions-html div.instructions")
    preview.wait_for()  # the inbox's HTML, rendered by the server with the sample data, as Markdown
    assert preview.inner_text() == "Check the receipt date first, <i>kettle</i>"
    assert preview.locator("strong").inner_text() == "receipt date" and preview.locator("i").count() == 0
    page.fill("textarea[name=spiff-instructions]", "Check the receipt date first.")
    check = draw_user_task(page)
    problem = page.locator(f"#problems li[data-rule='ticketflow/user-task-form'][data-element='{check}']")
    problem.wait_for()  # bpmnlint: the new user task has no form
    page.locator(f".djs-element.studio-error[data-element-id={check}]").wait_for()
    assert page.locator("#deploy").is_disabled()
    page.get_by_role("tab", name="Forms").click()
    page.fill("#new-form-name", "warranty_check")
    page.get_by_role("button", name="Add form").click()
    page.locator("#form-preview", has_text="Note").wait_for()  # our renderer, through the server
    page.fill("#form-data", "{}")
    page.locator("#form-errors", has_text="note").wait_for()
    page.get_by_role("tab", name="Diagram").click()
    select(page, check)
    page.locator("[data-group-id='group-general'] .bio-properties-panel-group-header").click()
    page.fill("#bio-properties-panel-name", "Check the warranty")
    page.select_option("select[name=spiff-form]", "warranty_check.json")
    problem.wait_for(state="detached")
    page.wait_for_selector("#deploy:not([disabled])")
    assert page.locator(".djs-element.studio-error").count() == 0
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status[data-kind=ok]")
    assert page.inner_text("#draft-state") == "Your draft (from version 1)"
    page.get_by_role("tab", name="Versions").click()
    page.locator("#versions tbody tr[data-version='1']").get_by_role("button", name="Diff to draft").click()
    page.locator("#diff", has_text=f"Added: {check}").wait_for()
    assert "handle_request" in page.locator("#diff").inner_text().split("Changed:")[1]
    assert "warranty_check.json" in page.locator("#diff").inner_text()
    page.get_by_role("tab", name="Diagram").click()
    changed = page.locator(".djs-element.studio-diff-changed[data-element-id=handle_request]")
    assert changed.count() == 1
    page.evaluate("window.studioModeler.get('selection').select(null)")
    shot(page, "studio-diff.png")
    page.locator("#deploy").click()
    page.fill("#deploy-comment", "Check the receipt first")
    page.locator("#deploy-dialog").get_by_role("button", name="Deploy").click()
    page.wait_for_selector("#status:has-text('Deployed version 2')")
    db.session.expire_all()
    instance = instance_of(running)
    assert instance.status == "running"
    assert db.session.get(ProcessDefinition, instance.definition_id).version == 1
    assert page.inner_text("#draft-state") == "Version 2 (no draft yet)"
    # The deploy removed the draft: a diff saves what the canvas shows first, then compares.
    page.get_by_role("tab", name="Versions").click()
    page.locator("#versions tbody tr[data-version='2']").get_by_role("button", name="Diff to draft").click()
    page.locator("#diff", has_text="Changed: none").wait_for()
    page.get_by_role("tab", name="Diagram").click()

    # A new ticket runs version 2: the new instructions and the form made in the studio.
    newer = open_ticket(customer, "Iron broken")
    assert db.session.get(ProcessDefinition, instance_of(newer).definition_id).version == 2
    agent.goto("/inbox/")
    agent.locator("tr", has_text="Iron broken").get_by_role("link", name="Handle the request").click()
    agent.wait_for_url("**/inbox/tasks/*")
    assert "Check the receipt date first." in agent.locator("main").inner_text()
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_url("**/inbox/")
    drain()
    agent.goto("/inbox/")  # the task the analyst drew, with the form made in the studio
    agent.locator("tr", has_text="Iron broken").get_by_role("link", name="Check the warranty").click()
    agent.wait_for_url("**/inbox/tasks/*")
    agent.locator("#f-note").fill("Receipt is within the warranty period.")
    agent.get_by_role("button", name="Complete task").click()
    agent.wait_for_url("**/inbox/")
    drain()
    db.session.expire_all()
    assert instance_of(newer).status == "completed"
    assert instance_of(running).status == "running"

    # 4. A pre-script the server refuses: a marker on the task, Deploy disabled; fixed, enabled.
    select(page, "handle_request")
    page.fill("textarea[name=spiff-prescript]", "import os")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status[data-kind=warn]")
    page.locator(".djs-element.studio-error[data-element-id=handle_request]").wait_for()
    assert page.locator("#deploy").is_disabled()
    assert "handle_request" in page.inner_text("#problems")
    page.fill("textarea[name=spiff-prescript]", "")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#deploy:not([disabled])")
    assert page.locator(".djs-element.studio-error").count() == 0

    # Version 1 as a zip, opened read-only, and restored as the draft from there.
    page.get_by_role("tab", name="Versions").click()
    first_version = page.locator("#versions tbody tr[data-version='1']")
    href = first_version.get_by_role("link", name="zip").get_attribute("href")
    download = page.request.get(href)
    assert download.ok and download.body()[:2] == b"PK"
    first_version.get_by_role("button", name="Open").click()  # read-only, from the server's version 1
    page.locator("#readonly-banner", has_text="Version 1, read-only").wait_for()
    page.locator("#readonly-canvas .djs-element[data-element-id=handle_request]").wait_for()
    assert page.locator(f"#readonly-canvas .djs-element[data-element-id={check}]").count() == 0
    assert page.locator("#deploy").is_disabled() and page.locator("#canvas").is_hidden()
    page.get_by_role("button", name="Restore as draft").click()
    page.wait_for_selector("#status:has-text('Version 1 is now your draft')")
    assert page.locator("#readonly-banner").is_hidden() and page.locator("#canvas").is_visible()
    assert page.locator(f".djs-element[data-element-id={check}]").count() == 0
    select(page, "handle_request")
    assert page.input_value("textarea[name=spiff-instructions]") == "Read the request and do what it asks."

    for p, errs in ((page, errors), (customer, customer_errors), (agent, agent_errors)):
        assert p.evaluate("window.__violations") == []
        assert unexpected(errs) == []
