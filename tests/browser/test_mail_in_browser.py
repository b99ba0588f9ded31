"""E-mail in, in a browser: an admin opens a held mail as a ticket; the team sees a mailed reply flagged;
an agent chooses their e-mails on the settings page. No CSP violation or console error on the way.

With SCREENSHOTS=1 the test saves docs/screenshots/admin-held-mail.png, inbox-mailed-reply.png and
account-settings-mail.png.
"""

import os
from pathlib import Path

from app.extensions import db
from app.models import Ticket
from tests.browser.test_csp_browser import _signed_in_page, _unexpected
from tests.factories import deploy_shipped, make_customer_user, make_user
from tests.mail.inbound_helpers import COMPLAINT_START, mail, send, start_gateway

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _shot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        page.screenshot(path=str(SHOTS / name), full_page=True)


def test_an_admin_opens_a_held_mail_and_the_team_sees_a_mailed_reply(app, new_page):
    from app.engine import start_process
    from app.worker import drain

    deploy_shipped("general", "complaint")
    make_user("root", "admin", password="pw")
    make_user("alice", "agent", teams=("support", "customer-success"), password="pw")
    _, customer = make_customer_user("jane", name="Jane Doe")
    ticket, _ = start_process("complaint", customer.id, "Rude courier", COMPLAINT_START, actor="jane")
    drain()
    gateway = start_gateway(app)
    try:
        send(
            gateway,
            mail(
                sender="Kim Lee <kim@newcomer.test>",
                subject="Do you ship to Norway?",
                body="Hello, do you ship to Oslo? I would order two lamps.",
                files=(("lamp.jpg", "image/jpeg", b"\xff\xd8jpeg"),),
            ),
        )
        send(
            gateway, mail(subject=f"Re: [#{ticket.id}] Rude courier", body="He came back today and shouted.")
        )
    finally:
        gateway.stop()

    page, errors = _signed_in_page(new_page, "root")
    page.goto("/admin/held-mail")
    assert page.get_by_text("kim@newcomer.test").is_visible() and page.get_by_text("lamp.jpg").is_visible()
    _shot(page, "admin-held-mail.png")
    page.get_by_role("button", name="Open as ticket").click()
    page.wait_for_load_state()
    assert page.get_by_text("No held e-mail.").is_visible()
    assert page.evaluate("window.__violations") == [] and _unexpected(errors) == []
    opened = db.session.execute(
        db.select(Ticket).where(Ticket.subject == "Do you ship to Norway?")
    ).scalar_one()
    assert opened.type == "general"

    page, errors = _signed_in_page(new_page, "alice")
    page.goto(f"/inbox/tickets/{ticket.id}")
    assert page.get_by_text("He came back today and shouted.").first.is_visible()
    _shot(page, "inbox-mailed-reply.png")
    page.goto("/account/settings")
    page.get_by_label("E-mail me when a task is assigned to me").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_label("E-mail me when a task is assigned to me").is_checked()
    _shot(page, "account-settings-mail.png")
    assert page.evaluate("window.__violations") == [] and _unexpected(errors) == []
