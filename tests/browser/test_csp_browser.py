"""In a real Chromium, under the app's own Content-Security-Policy: every page of the app, signed in
as each role (and signed out), loads without a CSP violation or a console error, and still works
(the style sheet applies, form-rows.js adds and removes rows, forms post).

The pages come from the URL map: every GET route outside the API, with real ids for each argument.
"""

import re
import secrets
from datetime import timedelta

import pytest

from app.clock import utcnow
from app.engine import start_process
from app.extensions import db
from app.handlers.feedback import survey_token
from app.models import FeedbackRequest, HumanTask, InboundMail, Team, User, WebhookSubscription
from app.worker import drain
from tests.browser.studio_fake import FakeStudio
from tests.engine.conftest import RETURN_START
from tests.factories import add_photo, deploy_shipped, make_customer_user, make_user

ROLES = (None, "root", "alice", "max", "ana", "jane")
# Not pages: files sent as downloads, JSON, and the static files a page loads itself.
NOT_PAGES = (
    "api.",
    "static",
    "healthz",
    "readyz",
    "favicon",  # /favicon.ico: the SVG icon
    "metrics.",  # /metrics: the Prometheus text format
    "inbox.attachment",
    "portal.attachment",
    # The studio's JSON and its bundle download (app/web/studio/api.py, versions.py, tools.py):
    "studio.list_types",
    "studio.draft",
    "studio.list_versions",
    "studio.get_version",
    "studio.download_version",
    "studio.diff",
    "studio.catalog",
    "studio.preview_instructions_html",
    "studio.decision",
    "studio.migration_batch_studio",  # a migration batch's progress (app/web/studio/migrations.py)
    "dashboard.tickets_csv",  # the ticket list as a CSV download
    # The KPI page's fragment that htmx polls (app/web/dashboard/overview.py): not a page of its own.
    "dashboard.kpis_fragment",
    # The inbox's view counts that htmx polls (app/web/inbox/listing.py): a fragment, not a page.
    "inbox.live_counts",
)

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile);
});
"""


@pytest.fixture
def world(app):
    deploy_shipped()
    make_user("root", "admin", password="pw")
    alice = make_user("alice", "agent", teams=("returns",), password="pw")
    make_user("max", "manager", teams=("returns",), password="pw")
    make_user("ana", "analyst", password="pw")
    jane, profile = make_customer_user("jane")
    ticket, _ = start_process("return", profile.id, "Broken shoes", RETURN_START, actor="jane")
    drain()
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    add_photo(ticket.id, jane.id)
    survey = FeedbackRequest(
        ticket_id=ticket.id, nonce=secrets.token_hex(8), expires_at=utcnow() + timedelta(days=7)
    )
    db.session.add(survey)
    db.session.add(  # a mail held for review: /admin/held-mail lists it (tests/mail/test_mail_in.py)
        InboundMail(
            message_id="<held-1@newcomer.test>",
            sender="kim@newcomer.test",
            subject="Do you ship to Norway?",
            outcome="held",
            raw=b"From: Kim <kim@newcomer.test>\r\nSubject: Do you ship to Norway?\r\n\r\nHello!",
        )
    )
    hook = WebhookSubscription(url="https://hooks.example.com/t", events=["ticket.opened"], secret="whsec_x")
    db.session.add(hook)
    db.session.commit()
    return {
        "ticket_id": ticket.id,
        "task_id": task.id,
        "user_id": alice.id,
        "team_id": db.session.execute(db.select(Team.id).where(Team.key == "returns")).scalar(),
        "ticket_type": "return",
        "key": "return",
        "version": 1,
        "token": survey_token(survey),
        "name": "20261123T090000000000-000000000000.eml",  # /dev/mail/<name>: 404 outside development
        "webhook_id": hook.id,
    }


def _pages(app, ids):
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.startswith(NOT_PAGES):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(ids[name]), url)
        urls.add(url)
    return sorted(urls | {"/no/such/page"})


def _signed_in_page(new_page, username, app=None):
    page = new_page()
    page.add_init_script(WATCH)
    if app is not None and not any(r.rule.startswith("/studio/api/") for r in app.url_map.iter_rules()):
        FakeStudio(page)  # the studio's pages fetch its JSON endpoints: a stand-in until they exist
    errors = []
    page.on(
        "console",
        lambda msg: errors.append((msg.text, msg.location.get("url", ""))) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: errors.append((str(exc), "")))
    if username:
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", "pw")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{username} could not sign in"
    return page, errors


def _unexpected(errors, url=None):
    """Console errors, less the failed load of a page answering 4xx on purpose and of the favicon."""
    return [
        text
        for text, source in errors
        if not (
            text.startswith("Failed to load resource")
            and (source.endswith("/favicon.ico") or (url and source.endswith(url)))
        )
    ]


@pytest.mark.parametrize("username", ROLES, ids=lambda u: u or "anonymous")
def test_every_page_loads_without_a_csp_violation(app, world, new_page, username):
    page, errors = _signed_in_page(new_page, username, app)
    for url in _pages(app, world):
        errors.clear()
        page.goto(url)
        page.wait_for_load_state()
        assert page.evaluate("window.__violations") == [], url
        assert _unexpected(errors, url) == [], url
        # The style sheet applies (the body font comes from app.css, not the browser's default).
        assert "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily"), url


def test_add_item_works_under_the_apps_csp_on_the_portal_form(app, world, new_page):
    page, errors = _signed_in_page(new_page, "jane")
    page.goto("/portal/new/return")
    before = page.locator("fieldset[data-array] .array-item").count()
    page.locator("fieldset[data-array] .add-row").first.click()
    assert page.locator("fieldset[data-array] .array-item").count() == before + 1
    page.locator(".array-item .remove-row").last.click()
    assert page.locator("fieldset[data-array] .array-item").count() == before
    assert page.evaluate("window.__violations") == [] and _unexpected(errors) == []


def test_the_admin_form_keeps_its_layout_from_the_style_sheet(app, world, new_page):
    page, _ = _signed_in_page(new_page, "root")
    alice = db.session.execute(db.select(User).where(User.username == "alice")).scalar_one()
    page.goto(f"/admin/users/{alice.id}")
    assert page.locator(".check-label").first.evaluate("e => getComputedStyle(e).display") == "inline"
    assert page.locator(".narrow-card").evaluate("e => getComputedStyle(e).maxWidth") == "640px"
    page.get_by_role("button", name=re.compile("Save", re.I)).click()
    page.wait_for_load_state()
    assert page.evaluate("window.__violations") == []
