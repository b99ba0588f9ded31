"""Process tests in the studio, against the real server in Chromium under the app's CSP.

The return flow is deployed with its scenarios (processes/return.tests.json). An analyst edits the
review task's instructions and, by mistake, the resolution the rejection closes with; "Run tests"
fails the two rejection scenarios at `close_rejected`, drawn on the diagram (the path taken in
green, the failing element in red with the scenario's name); a deploy is refused with the same
result and offers the override; the analyst fixes the parameter, the tests pass, and the deploy
makes version 2 with "9 passed" in the Versions tab.

With SCREENSHOTS=1: docs/screenshots/studio-tests-failed.png, studio-tests-deploy-blocked.png,
studio-tests-passed.png.
"""

from pathlib import Path

import pytest

from app.engine import deploy_bundle
from app.extensions import db
from app.models import ProcessDefinition
from tests.browser.test_portal_browser import sign_in
from tests.browser.test_studio import BUNDLE, select, shot
from tests.browser.test_studio_live import unexpected, watched
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
SLOW = 120_000  # ms: nine scenarios on the real engine, on a busy machine


def deploy_shipped_bundle():
    """processes/ and forms/ as `flask processes deploy` sends them: the scenarios included."""
    files = [
        (p.name, p.read_bytes())
        for folder in ("processes", "forms")
        for p in sorted((ROOT / folder).iterdir())
        if p.suffix in (".bpmn", ".dmn", ".json")
    ]
    deploy_bundle(files, actor="test")


def run_tests(page, kind: str):
    page.get_by_role("tab", name="Tests").click()
    page.get_by_role("button", name="Run tests").click()
    page.locator(f"#test-summary[data-kind={kind}]").wait_for(timeout=SLOW)


def versions_of_return() -> list[int]:
    db.session.rollback()  # a new read: the server wrote meanwhile
    query = db.select(ProcessDefinition.version).where(ProcessDefinition.key == "return")
    return sorted(db.session.execute(query).scalars())


def test_an_analyst_sees_a_failing_test_on_the_diagram_fixes_it_and_deploys(app, new_page):
    if not BUNDLE.exists():
        pytest.fail("the studio's bundle is missing: run `make studio` (npm ci + esbuild)")
    deploy_shipped_bundle()
    make_user("ana", "analyst", password="pw")
    make_user("alice", "agent", teams=("returns", "customer-success"), password="pw")  # the lanes' teams
    page, errors = watched(new_page)
    sign_in(page, "ana")
    page.wait_for_url("**/studio/")
    page.goto("/studio/types/return")
    page.wait_for_selector("#studio-editor[data-ready=true]")

    # The deployed version carries its scenarios: they pass.
    run_tests(page, "ok")
    assert page.inner_text("#test-summary") == "9 passed, 0 failed."
    assert "more info then refunded" in page.inner_text("#test-results")

    # A change to the flow (new instructions) with a mistake in it (a misspelt resolution).
    page.get_by_role("tab", name="Diagram").click()
    select(page, "review_request")
    page.fill("textarea[name=spiff-instructions]", "Check the photos first, then decide.")
    select(page, "close_rejected")
    page.fill("input[name=spiff-param-resolution]", '"rejectd"')
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status[data-kind=ok]")

    run_tests(page, "error")
    assert page.inner_text("#test-summary") == "7 passed, 2 failed."
    failed = page.locator("#test-results li.test-failed[data-scenario='rejected']")
    assert "at close_rejected" in failed.inner_text()
    assert "the ticket's resolution was to be 'rejected', but it is 'rejectd'" in failed.inner_text()
    failed.get_by_role("button", name="Show on diagram").click()
    assert page.locator("#canvas").is_visible()
    page.locator(".djs-element.studio-test-failed[data-element-id=close_rejected]").wait_for()
    assert page.locator(".studio-test-overlay").inner_text() == "✗ rejected"
    for passed in ("review_request", "review_decision", "notify_rejection"):
        assert page.locator(f".djs-element.studio-test-passed[data-element-id={passed}]").count() == 1
    flow = ".djs-element.studio-test-flow[data-element-id=flow_review_decision_to_notify_rejection]"
    assert page.locator(flow).count() == 1
    assert page.locator(".djs-element.studio-test-passed[data-element-id=receive_item]").count() == 0
    page.evaluate("window.studioModeler.get('selection').select(null)")
    shot(page, "studio-tests-failed.png")

    # A deploy runs the tests first: refused, with the override offered.
    page.locator("#deploy").click()
    page.fill("#deploy-comment", "Photos first")
    page.locator("#deploy-dialog").get_by_role("button", name="Deploy").click()
    page.locator("#deploy-tests:not([hidden])").wait_for(timeout=SLOW)
    assert page.inner_text("#deploy-tests-message").startswith("2 process test(s) fail")
    assert page.locator("#deploy-override").is_visible() and not page.locator("#deploy-override").is_checked()
    shot(page, "studio-tests-deploy-blocked.png")
    page.locator("#deploy-dialog").get_by_role("button", name="Cancel").click()
    assert versions_of_return() == [1]

    # The fix: the tests pass, the deploy goes through and says so.
    page.get_by_role("tab", name="Diagram").click()
    select(page, "close_rejected")
    page.fill("input[name=spiff-param-resolution]", '"rejected"')
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status[data-kind=ok]")
    run_tests(page, "ok")
    assert page.inner_text("#test-summary") == "9 passed, 0 failed."
    page.locator("#deploy").click()
    page.fill("#deploy-comment", "Photos first")
    page.locator("#deploy-dialog").get_by_role("button", name="Deploy").click()
    page.wait_for_selector("#status:has-text('Deployed version 2')", timeout=SLOW)
    assert "Process tests: 9 passed, 0 failed." in page.inner_text("#status")
    assert versions_of_return() == [1, 2]
    page.get_by_role("tab", name="Versions").click()
    row = page.locator("#versions tbody tr[data-version='2']")
    row.wait_for()
    assert "Photos first" in row.inner_text() and "9 passed" in row.inner_text()
    page.get_by_role("tab", name="Tests").click()
    shot(page, "studio-tests-passed.png")

    assert page.evaluate("window.__violations") == []
    refused = "Failed to load resource: the server responded with a status of 422 (UNPROCESSABLE ENTITY)"
    assert [e for e in unexpected(errors) if e != refused] == []  # the refused deploy's answer only
