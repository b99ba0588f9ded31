"""The caught mail in a browser: /dev/mail shows the HTML in its sandboxed frame without a CSP
violation, its survey link opens the survey; /admin/outbox lists the mail as sent.

With SCREENSHOTS=1 the test saves docs/screenshots/mail-dev.png (the HTML rendering) and
admin-outbox.png.
"""

import os
import re
from pathlib import Path

from app.engine import deploy, start_process
from app.mail import send_due_mail
from app.mail.catcher import start_catcher
from app.worker import drain
from tests.browser.test_csp_browser import _signed_in_page, _unexpected
from tests.diagrams import service_task_process
from tests.factories import make_customer, make_user

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_the_caught_survey_mail_renders_and_its_link_opens_the_survey(app, new_page, tmp_path):
    app.config.update(
        TICKETFLOW_ENV="development",
        MAIL_CATCHER=True,
        MAIL_CATCHER_PORT=0,
        MAIL_CATCHER_DIR=str(tmp_path / "mail"),
        MAIL_HOST="",
        COMPANY_NAME="Ombori Shop",
        COMPANY_COLOUR="#0f766e",
    )
    catcher = start_catcher(app)
    try:
        make_user("root", "admin", password="pw")
        deploy(service_task_process("feedback.request"))
        start_process("svc", make_customer().id, "Broken zipper", {})
        drain()
        assert send_due_mail() == 1
        page, errors = _signed_in_page(new_page, "root")
        page.goto("/dev/mail")
        page.get_by_role("link", name=re.compile("How did we do")).click()
        page.wait_for_load_state()
        frame = page.frame_locator("iframe.mail-frame")
        assert frame.get_by_text("Ombori Shop").first.is_visible()
        assert frame.get_by_role("link", name="Rate our help").is_visible()
        assert page.evaluate("window.__violations") == [] and _unexpected(errors) == []
        if os.environ.get("SCREENSHOTS") == "1":
            page.screenshot(path=str(SHOTS / "mail-dev.png"), full_page=True)
        survey_url = page.locator("section.card ul a").first.get_attribute("href")
        path = re.sub(r"^https?://[^/]+", "", survey_url)
        page.goto(path)
        assert "Broken zipper" in page.content()
        page.goto("/admin/outbox?state=sent")
        assert "How did we do?" in page.content()
        assert page.evaluate("window.__violations") == []
        if os.environ.get("SCREENSHOTS") == "1":
            page.screenshot(path=str(SHOTS / "admin-outbox.png"), full_page=True)
    finally:
        catcher.stop()
