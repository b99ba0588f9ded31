"""Decision tables in the studio, against the real server in Chromium under the studio's CSP: the
Decisions tab loads dmn-js only when opened, offers the deployed decisions, evaluates a table on
the server ("Try it": the matched rule highlighted, an error naming the input), makes a new
decision from the template, and saves the edited table into the draft.

With SCREENSHOTS=1 the tab is saved as docs/screenshots/studio-decisions.png.
"""

from pathlib import Path

from app.engine import deploy
from app.extensions import db
from app.models import StudioDraft
from tests.browser.test_portal_browser import sign_in
from tests.browser.test_studio import shot
from tests.browser.test_studio_live import unexpected, watched
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
LOADED = "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/decisions.'))"


def try_inputs(page, values: dict[str, str]):
    for name, value in values.items():
        page.fill(f"#try-it input[name={name}]", value)
    page.get_by_role("button", name="Evaluate").click()


def edit_cell(page, cell, text: str):
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.locator("#tab-decisions aside h2").click()  # leave the cell: dmn-js commits the edit


def test_an_analyst_edits_and_tries_decision_tables_in_the_decisions_tab(app, new_page):
    make_user("ana", "analyst", password="pw")
    deploy((ROOT / "processes" / "priority.dmn").read_bytes(), actor="test", filename="priority.dmn")
    page, errors = watched(new_page)
    sign_in(page, "ana")
    page.wait_for_url("**/studio/")
    page.get_by_role("button", name="New ticket type").click()
    page.fill("#new-type-key", "warranty")
    page.fill("#new-type-name", "Warranty claim")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/studio/types/warranty")
    page.wait_for_selector("#studio-editor[data-ready=true]")
    assert page.evaluate(LOADED) == []  # dmn-js is not part of the editor's first load

    page.get_by_role("tab", name="Decisions").click()
    page.wait_for_selector("#decision-files")
    assert sorted(page.evaluate(LOADED)) == [
        f"{page.url.split('/studio')[0]}/static/studio/decisions.css",
        f"{page.url.split('/studio')[0]}/static/studio/decisions.js",
    ]
    page.select_option("#decision-files", "deployed:priority")
    page.wait_for_selector("#dmn-canvas .tjs-table")
    assert page.input_value("#decision-files") == "priority.dmn"
    assert page.locator("#try-it input[name=ticket_type]").count() == 1

    try_inputs(page, {"ticket_type": "return", "amount": "900"})
    page.locator("#try-result", has_text="priority#8 (return over 500)").wait_for()
    assert '"high"' in page.inner_text("#try-result")
    assert page.locator("#dmn-canvas td.studio-matched[data-row-id=priority_rule_8]").count() > 0
    page.evaluate("window.scrollTo(0, document.querySelector('.studio-tabs').offsetTop)")
    shot(page, "studio-decisions.png")

    try_inputs(page, {"amount": "lots"})
    page.locator("#try-result", has_text="is not a number").wait_for()
    try_inputs(page, {"amount": ""})  # None > 500 fails on the server: the answer names the input
    page.locator("#try-result", has_text="inputs.amount").wait_for()

    page.fill("#new-decision-name", "discount")
    page.get_by_role("button", name="New decision").click()
    page.wait_for_selector("#decision-files option[value='discount.dmn']:checked", state="attached")
    page.wait_for_selector("#dmn-canvas td[data-row-id=discount_rule_1]")
    try_inputs(page, {"tier": "gold"})
    page.locator("#try-result", has_text="discount#1").wait_for()

    # Edit a cell through dmn-js, then save: the deploy checks name the cell; fixed, the draft
    # holds the edited table.
    cell = page.locator("#dmn-canvas td[data-row-id=discount_rule_2].output-cell [contenteditable]").first
    edit_cell(page, cell, "import os")
    page.get_by_role("button", name="Save").click()
    page.locator("#decision-problems", has_text="discount_rule_2_result").wait_for()
    assert page.locator("#deploy").is_disabled()
    edit_cell(page, cell, '"maybe"')
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status:has-text('Saved.')")
    assert page.locator("#decision-problems li").count() == 0
    db.session.commit()  # a fresh snapshot: the server saved in its own connection
    draft = db.session.execute(db.select(StudioDraft).where(StudioDraft.key == "warranty")).scalar_one()
    assert '"maybe"' in draft.files["discount.dmn"]
    assert draft.files["priority.dmn"] == (ROOT / "processes" / "priority.dmn").read_text()  # unedited

    assert page.evaluate("window.__violations") == [], page.evaluate("window.__violations")
    # The one answer that is an error on purpose (the failing cell) is the browser's only complaint.
    tried = [
        e for e in errors if str(getattr(e, "location", {}).get("url", "")).endswith("/decisions/evaluate")
    ]
    assert len(tried) == 1
    assert unexpected([e for e in errors if e not in tried]) == []
