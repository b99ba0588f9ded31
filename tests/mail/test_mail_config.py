"""The mail settings are checked when the app starts: a bad value names its variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ConfigError, env_address, env_choice, env_colour
from app.mail.compose import subject_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value", "check"),
    [
        ("MAIL_SECURITY", "ssl", lambda n: env_choice(n, "none", ("none", "starttls", "tls"))),
        ("MAIL_FROM", "support", lambda n: env_address(n, "a@b")),
        ("MAIL_REPLY_TO", "Support <support>", lambda n: env_address(n, "")),
        ("COMPANY_COLOUR", "blue", lambda n: env_colour(n, "#000000")),
    ],
)
def test_a_bad_mail_setting_names_the_variable(monkeypatch, name, value, check):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name}="):
        check(name)


def test_good_mail_settings_are_taken(monkeypatch):
    monkeypatch.setenv("MAIL_SECURITY", "STARTTLS")
    monkeypatch.setenv("MAIL_FROM", "Acme Support <help@acme.test>")
    monkeypatch.setenv("COMPANY_COLOUR", "#AA3300")
    assert env_choice("MAIL_SECURITY", "none", ("none", "starttls", "tls")) == "starttls"
    assert env_address("MAIL_FROM", "") == "Acme Support <help@acme.test>"
    assert env_colour("COMPANY_COLOUR", "#000000") == "#aa3300"


def test_the_app_does_not_start_with_a_bad_mail_port_and_says_which():
    env = {**os.environ, "MAIL_PORT": "smtp", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", "import app.config"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert run.returncode != 0 and "ConfigError: MAIL_PORT='smtp'" in run.stderr


class _Row:
    def __init__(self, subject, ticket_id):
        self.subject, self.ticket_id = subject, ticket_id


@pytest.mark.parametrize(
    ("subject", "ticket_id", "expected"),
    [
        ("[Ticket #12] How did we do?", 12, "[#12] How did we do?"),
        ("Broken zip", 12, "[#12] Broken zip"),
        ("Ticketflow alert: backlog is 40", None, "Ticketflow alert: backlog is 40"),
    ],
)
def test_the_subject_carries_the_ticket_reference_once(subject, ticket_id, expected):
    assert subject_of(_Row(subject, ticket_id)) == expected
