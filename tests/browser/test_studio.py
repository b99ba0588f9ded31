"""In a real Chromium, under the app's CSP: the studio's pages (list, editor with our spiffworkflow
properties, problem markers, save, deploy, form preview), against a stand-in for the studio's JSON
endpoints (tests/browser/studio_fake.py), so these tests prove the browser side alone.

With SCREENSHOTS=1 the editor, a marker and the form preview are saved to docs/screenshots/.
"""

import html
import os
import re
from pathlib import Path

import pytest

from tests.browser.studio_fake import FakeStudio, shipped_files
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "app" / "static" / "studio" / "editor.js"
SPIFF_TAG = re.compile(r"<spiffworkflow:[A-Za-z]+")
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.fixture
def studio(app, new_page):
    """An analyst's signed-in page with the fake endpoints; console errors collected."""
    if not BUNDLE.exists():
        pytest.fail("the studio's bundle is missing: run `make studio` (npm ci + esbuild)")
    make_user("ana", "analyst", password="pw")
    page = new_page()
    page.add_init_script(WATCH)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    fake = FakeStudio(page, app=app)
    page.goto("/login")
    page.fill("#username", "ana")
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/studio/")
    yield page, fake, errors
    assert page.evaluate("window.__violations") == []
    assert errors == []


def open_editor(page, key="return"):
    page.goto(f"/studio/types/{key}")
    page.wait_for_selector("#studio-editor[data-ready=true]")


def select(page, element_id):
    page.evaluate(
        "id => window.studioModeler.get('selection').select(window.studioModeler.get('elementRegistry').get(id))",
        element_id,
    )
    page.wait_for_selector("#properties [data-group-id='group-ticketflow']")


def shot(page, name):
    if os.environ.get("SCREENSHOTS") == "1":
        page.screenshot(path=str(ROOT / "docs" / "screenshots" / name))


def test_the_list_shows_the_types_and_new_type_opens_the_editor(studio):
    page, fake, _ = studio
    row = page.locator("#types tbody tr[data-key=return]")
    assert "v1" in row.inner_text() and "v1: 1" in row.inner_text()
    page.get_by_role("button", name="New ticket type").click()
    page.fill("#new-type-key", "warranty")
    page.fill("#new-type-name", "Warranty claim")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/studio/types/warranty")
    assert fake.bodies("POST", "/types") == [{"key": "warranty", "name": "Warranty claim"}]


def test_a_type_is_retired_and_unretired_from_the_list(studio):
    page, fake, _ = studio
    row = page.locator("#types tbody tr[data-key=return]")
    row.get_by_role("button", name="Retire").click()
    row.get_by_role("button", name="Unretire").wait_for()
    assert "retired" in row.inner_text() and fake.retired
    row.get_by_role("button", name="Unretire").click()
    row.get_by_role("button", name="Retire").wait_for()
    assert not fake.retired


def test_the_versions_tab_diffs_a_version_against_the_draft_and_restores_it(studio):
    page, fake, _ = studio
    open_editor(page)
    page.get_by_role("tab", name="Versions").click()
    version = page.locator("#versions tbody tr[data-version='1']")
    assert (
        version.get_by_role("link", name="zip").get_attribute("href") == "/studio/types/return/versions/1.zip"
    )
    version.get_by_role("button", name="Diff to draft").click()
    page.locator("#diff", has_text="Removed: old_task").wait_for()
    assert page.locator(".djs-element.studio-diff-changed[data-element-id=review_request]").count() == 1
    assert '"title": "New"' in page.locator("#diff pre").text_content()
    assert fake.requests[-1][:2] == ("GET", "/types/return/diff")
    version.get_by_role("button", name="Restore").click()
    page.wait_for_selector("#status:has-text('Version 1 is now your draft')")
    assert ("POST", "/types/return/versions/1/restore", None) in fake.requests
    page.get_by_role("tab", name="Diagram").click()
    assert page.locator(".djs-element[data-element-id=review_request]").is_visible()


def test_the_editor_draws_the_diagram_with_our_properties(studio):
    page, _, _ = studio
    open_editor(page)
    assert page.locator(".djs-element[data-element-id=review_request]").count() == 1
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays
    select(page, "review_request")
    group = page.locator("[data-group-id='group-ticketflow']")
    assert group.locator("select[name=spiff-form]").input_value() == "return_review.json"
    assert "Accept the return" in group.locator("textarea[name=spiff-instructions]").input_value()
    shot(page, "studio-editor.png")
    select(page, "set_status_new")
    assert group.locator("select[name=spiff-operator]").input_value() == "ticket.set_status"
    assert group.locator("input[name=spiff-result]").input_value() == "ticket_status"
    assert group.locator("input[name=spiff-retries]").input_value() == "3"
    select(page, "lane_returns")
    assert group.locator("select[name=spiff-team]").input_value() == "returns"


@pytest.mark.parametrize("key", ["return", "credit", "general", "complaint", "onboarding", "order"])
def test_a_shipped_diagram_saved_without_edits_keeps_every_spiffworkflow_element(studio, key):
    page, fake, _ = studio
    fake.key, fake.files = key, shipped_files(key)
    shipped = fake.files[f"{key}.bpmn"]
    open_editor(page, key)
    assert page.locator("#problems li.problem-none").is_visible()  # bpmnlint finds nothing either
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status[data-kind=ok]")
    (saved,) = fake.bodies("PUT", f"/types/{key}/draft")
    xml = saved["files"][f"{key}.bpmn"]
    assert sorted(SPIFF_TAG.findall(xml)) == sorted(SPIFF_TAG.findall(shipped))
    values = [sorted(map(html.unescape, re.findall(r'value="([^"]*)"', text))) for text in (xml, shipped)]
    assert values[0] == values[1]
    assert saved["files"] == {**fake.files, f"{key}.bpmn": xml}


def test_the_instructions_preview_shows_the_agents_markdown_html_for_sample_data(studio):
    page, fake, _ = studio
    text = (
        "## Call {{ customer.name }}\n\nDo it **today**, as [the policy](https://example.com/policy) says."
        '\n\n- <b onclick="alert(1)">now</b>\n- [not a link](javascript:alert(2))\n\n<script>alert(3)</script>'
    )
    open_editor(page)
    select(page, "review_request")
    page.fill("textarea[name=spiff-instructions]", text)
    page.fill("#studio-instructions-sample", "{not json")
    page.get_by_role("button", name="Preview", exact=True).click()
    page.locator(".studio-preview-problem", has_text="not valid JSON").wait_for()
    page.fill("#studio-instructions-sample", '{"customer": {"name": "Jane"}}')
    page.get_by_role("button", name="Preview", exact=True).click()
    shown = page.locator(".studio-instructions-html div.instructions")
    shown.wait_for()  # the inbox's HTML (app/web/markdown.py), in the panel under the CSP
    assert shown.locator("h2").inner_text() == "Call Jane"
    assert shown.locator("strong").inner_text() == "today"
    link = shown.locator("a")
    assert link.count() == 1 and link.inner_text() == "the policy"
    assert link.get_attribute("href") == "https://example.com/policy"
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert shown.locator("li").all_inner_texts() == [
        '<b onclick="alert(1)">now</b>',
        "[not a link](javascript:alert(2))",
    ]
    assert shown.locator("b, script, [onclick]").count() == 0
    assert "<script>alert(3)</script>" in shown.inner_text()  # shown as text, never run
    shown.scroll_into_view_if_needed()
    shot(page, "studio-instructions-preview.png")
    assert fake.bodies("POST", "/instructions/preview")[-1] == {
        "text": text,
        "data": {"customer": {"name": "Jane"}},
    }


def test_an_edited_property_is_saved_in_the_spiffworkflow_namespace(studio):
    page, fake, _ = studio
    open_editor(page)
    select(page, "review_request")
    page.fill("textarea[name=spiff-instructions]", "Check the photos first.")
    page.select_option("select[name=spiff-form]", "return_start.json")
    select(page, "set_status_new")
    page.select_option("select[name=spiff-operator]", "notify.customer")
    page.fill("input[name=spiff-param-subject]", '"Hello"')
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status[data-kind=ok]")
    xml = fake.bodies("PUT", "/types/return/draft")[-1]["files"]["return.bpmn"]
    assert (
        "<spiffworkflow:instructionsForEndUser>Check the photos first.</spiffworkflow:instructionsForEndUser>"
        in xml
    )
    assert '<spiffworkflow:property name="formJsonSchemaFilename" value="return_start.json"' in xml
    assert '<spiffworkflow:serviceTaskOperator id="notify.customer"' in xml
    assert '<spiffworkflow:parameter id="subject" type="str" value="&#34;Hello&#34;"' in xml


def test_a_problem_is_a_marker_on_its_element_and_errors_block_deploy(studio):
    page, fake, _ = studio
    fake.problems = [
        {
            "severity": "error",
            "file": "return.bpmn",
            "element_id": "review_request",
            "message": "no form or instructions",
        },
        {"severity": "warning", "file": None, "element_id": None, "message": "no SLA target"},
    ]
    open_editor(page)
    marker = page.locator(".djs-element.studio-error[data-element-id=review_request]")
    marker.wait_for()
    assert page.locator("#deploy").is_disabled()
    assert "no form or instructions" in page.locator("#problems").inner_text()
    page.locator("#problems button", has_text="review_request").click()
    assert "no form or instructions" in page.locator("[data-group-id='group-studio-problems']").inner_text()
    shot(page, "studio-marker.png")

    fake.problems = fake.problems[1:]  # the analyst fixes it; warnings do not block
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#deploy:not([disabled])")
    assert page.locator(".djs-element.studio-error").count() == 0
    page.locator("#deploy").click()
    page.fill("#deploy-comment", "Instructions for the review")
    page.locator("#deploy-dialog").get_by_role("button", name="Deploy").click()
    page.wait_for_selector("#status:has-text('Deployed version 2')")
    assert fake.bodies("POST", "/types/return/deploy") == [{"comment": "Instructions for the review"}]


def set_schema(page, text):
    """Replace the JSON Schema in the Forms tab's CodeMirror editor, as typing or pasting would."""
    page.locator("#form-schema .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)


def test_the_forms_tab_previews_the_schema_with_the_servers_renderer(studio):
    page, fake, _ = studio
    open_editor(page)
    page.get_by_role("tab", name="Forms").click()
    page.select_option("#form-files", "return_review.json")
    shipped = fake.files["return_review.json"]
    assert page.locator("#form-schema .cm-content").inner_text().strip() == shipped.strip()
    set_schema(page, shipped.replace('"decision"', '"note"', 1))
    page.locator("#form-preview", has_text="Decision").wait_for()
    page.fill("#form-data", "{}")
    page.locator("#form-errors", has_text="This field is required.").wait_for()
    page.locator("#form-preview .error", has_text="This field is required.").wait_for()
    schema = fake.bodies("POST", "/forms/preview")[-1]["schema"]
    assert schema["title"] and schema["type"] == "object"
    assert page.locator("#form-schema .cm-line span[class]").count() > 0  # highlighted tokens
    page.evaluate("document.querySelector('#form-schema .cm-scroller').scrollTop = 0")
    shot(page, "studio-form-preview.png")
    page.get_by_role("tab", name="Versions").click()
    assert "shipped" in page.locator("#versions tbody tr[data-version='1']").inner_text()


def test_the_schema_editor_marks_a_json_error_in_its_gutter_under_the_csp(studio):
    page, _, _ = studio
    open_editor(page)
    page.get_by_role("tab", name="Forms").click()
    page.select_option("#form-files", "return_review.json")
    # CodeMirror's styles are <style> elements: allowed only with this answer's nonce.
    nonce = page.get_attribute("meta[name=csp-nonce]", "content")
    assert nonce and page.evaluate(
        "n => [...document.querySelectorAll('style')].some(s => s.nonce === n)", nonce
    )
    assert page.locator("#form-schema .cm-editor").evaluate("e => getComputedStyle(e).display") == "flex"
    set_schema(page, '{"type": "object",\n "title": }')
    page.locator("#form-schema .cm-lint-marker-error").wait_for()
    page.locator("#form-errors", has_text="not valid JSON").wait_for()
    set_schema(page, '{"type": "object", "properties": {"note": {"type": "string", "title": "Note"}}}')
    page.locator("#form-preview", has_text="Note").wait_for()
    page.locator("#form-schema .cm-lint-marker-error").wait_for(state="detached")


def test_a_timer_previews_its_next_due_time_and_a_draft_can_be_discarded(studio):
    page, fake, errors = studio
    open_editor(page)
    select(page, "feedback_reminder_due")
    # The shipped diagrams read the delay from a variable the server sets; an analyst types a literal.
    assert page.input_value("input[name=spiff-timer]") == "feedback_reminder_delay"
    page.fill("input[name=spiff-timer]", '"P3D"')
    page.get_by_role("button", name="Preview the next due time").click()
    page.locator(".studio-timer-answer", has_text="Next due").wait_for()
    assert (
        page.locator(".studio-timer-answer").inner_text() == "Next due: 05 Dec 2026 10:00 CET"
    )  # as `when` writes
    page.fill("input[name=spiff-timer]", "soon")
    page.get_by_role("button", name="Preview the next due time").click()
    page.locator(".studio-timer-answer", has_text="not an ISO 8601 duration").wait_for()
    assert errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    errors.clear()  # Chromium logs every 4xx fetch; this one was asked for
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Discard draft").click()
    page.wait_for_selector("#status:has-text('Draft discarded')")
    assert ("DELETE", "/types/return/draft", None) in fake.requests


def test_a_new_form_is_added_to_the_draft_and_offered_to_user_tasks(studio):
    page, fake, _ = studio
    open_editor(page)
    page.get_by_role("tab", name="Forms").click()
    page.fill("#new-form-name", "return_check")
    page.get_by_role("button", name="Add form").click()
    page.locator("#form-preview", has_text="Note").wait_for()
    page.get_by_role("tab", name="Diagram").click()
    select(page, "review_request")
    page.select_option("select[name=spiff-form]", "return_check.json")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status[data-kind=ok]")
    files = fake.bodies("PUT", "/types/return/draft")[-1]["files"]
    assert '"title": "New form"' in files["return_check.json"]
    assert 'value="return_check.json"' in files["return.bpmn"]


def test_the_editor_loads_under_2_mb_of_javascript(studio):
    page, _, _ = studio
    open_editor(page)
    scripts = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.initiatorType === 'script')"
        ".map(e => [e.name, e.encodedBodySize])"
    )
    total = sum(size for _, size in scripts)
    assert any(name.endswith("/static/studio/editor.js") for name, _ in scripts)
    assert 0 < total < 2_000_000, scripts


def test_an_old_version_opens_read_only_and_the_analyst_goes_back_to_the_draft(studio):
    page, fake, _ = studio
    open_editor(page)
    select(page, "review_request")
    page.fill("textarea[name=spiff-instructions]", "Unsaved work in the draft.")
    page.get_by_role("tab", name="Versions").click()
    page.locator("#versions tbody tr[data-version='1']").get_by_role("button", name="Open").click()
    banner = page.locator("#readonly-banner")
    banner.wait_for()
    assert banner.locator("span").inner_text() == "Version 1, read-only —"
    viewer = page.locator("#readonly-canvas")
    viewer.locator(".djs-element[data-element-id=review_request]").wait_for()
    assert viewer.locator(".djs-palette").count() == 0  # a viewer: nothing to draw with
    assert page.locator("#properties").is_hidden() and page.locator("#canvas").is_hidden()
    for button in ("#save", "#deploy", "#discard"):
        assert page.locator(button).is_disabled()
    viewer.locator(".djs-element[data-element-id=review_request]").click()
    assert viewer.locator(".djs-context-pad").count() == 0
    page.get_by_role("tab", name="Forms").click()
    page.select_option("#form-files", "return_review.json")
    content = page.locator("#form-schema .cm-content")
    assert content.get_attribute("contenteditable") == "false"
    assert page.locator("#new-form").is_disabled()
    page.get_by_role("tab", name="Diagram").click()
    shot(page, "studio-readonly.png")

    page.get_by_role("button", name="Back to draft").click()
    banner.wait_for(state="hidden")
    assert page.locator("#canvas").is_visible() and page.locator("#save").is_enabled()
    select(page, "review_request")
    assert page.input_value("textarea[name=spiff-instructions]") == "Unsaved work in the draft."
    assert not any(method == "PUT" for method, _, _ in fake.requests)

    page.get_by_role("tab", name="Versions").click()
    page.locator("#versions tbody tr[data-version='1']").get_by_role("button", name="Open").click()
    banner.wait_for()
    page.get_by_role("button", name="Restore as draft").click()
    page.wait_for_selector("#status:has-text('Version 1 is now your draft')")
    assert banner.is_hidden() and ("POST", "/types/return/versions/1/restore", None) in fake.requests
