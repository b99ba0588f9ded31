"""The development catcher and /dev/mail: the survey e-mail arrives with a working link.

The catcher is a real aiosmtpd server on loopback keeping messages in instance/mail; /dev/mail
lists them for admins in development only (404 for everyone else, and in any other mode).
"""

import re

import pytest

from app.engine import deploy, start_process
from app.mail import send_due_mail
from app.mail.catcher import start_catcher
from app.worker import drain
from tests.diagrams import service_task_process
from tests.factories import login, make_customer, make_user


@pytest.fixture
def catcher(app, tmp_path):
    """The app's development catcher on a free port (MAIL_CATCHER=1, no MAIL_HOST), keeping mail in tmp."""
    app.config.update(
        TICKETFLOW_ENV="development",
        MAIL_CATCHER=True,
        MAIL_CATCHER_PORT=0,
        MAIL_CATCHER_DIR=str(tmp_path / "mail"),
        MAIL_HOST="",
    )
    started = start_catcher(app)
    yield started
    started.stop()


def _survey_mail(app):
    """A ticket whose process sends the satisfaction survey, drained and sent to the catcher."""
    deploy(service_task_process("feedback.request"))
    ticket, _ = start_process("svc", make_customer().id, "Broken zipper", {})
    drain()
    assert send_due_mail() == 1
    return ticket


def test_the_survey_mail_is_caught_and_its_link_opens_the_survey(app, client, catcher, clock, tmp_path):
    ticket = _survey_mail(app)
    make_user("root", "admin", password="pw")
    login(client, "root")
    listing = client.get("/dev/mail").get_data(as_text=True)
    assert f"[#{ticket.id}] How did we do?" in listing
    [name] = re.findall(r'href="/dev/mail/([0-9T]+-[0-9a-f]+\.eml)"', listing)
    assert (tmp_path / "mail" / name).is_file()  # kept in MAIL_CATCHER_DIR
    page = client.get(f"/dev/mail/{name}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="' in html
    assert "Reply-To" in html and f"support+{ticket.id}@ticketflow.example" in html
    assert "&lt;a href=" in html  # the mail's HTML is escaped into srcdoc, never inlined in the page
    [link] = re.findall(r'<li><a href="http://127\.0\.0\.1:5000(/survey/[^"]+)"', html)
    survey = client.get(link)
    assert survey.status_code == 200 and "Broken zipper" in survey.get_data(as_text=True)


def test_dev_mail_is_for_admins_only(app, client, catcher, clock):
    _survey_mail(app)
    make_user("alice", "agent", teams=("support",), password="pw")
    login(client, "alice")
    assert client.get("/dev/mail").status_code == 404


def test_dev_mail_is_404_outside_development(app, client, catcher, clock):
    _survey_mail(app)
    app.config["TICKETFLOW_ENV"] = "production"
    make_user("root", "admin", password="pw")
    login(client, "root")
    assert client.get("/dev/mail").status_code == 404


def test_a_name_that_is_not_a_caught_mail_is_404(app, client, catcher):
    make_user("root", "admin", password="pw")
    login(client, "root")
    for name in ("..%2Fsecret_key", "20261202T224200123456-0123456789ab.eml", "x.eml"):
        assert client.get(f"/dev/mail/{name}").status_code == 404
