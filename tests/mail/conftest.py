"""A real SMTP server on loopback (aiosmtpd, an ephemeral port) the worker sends to in these tests."""

from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

from app.mail.catcher import free_port


class Inbox:
    """aiosmtpd handler keeping the messages; `refuse` holds SMTP answers to give DATA first."""

    def __init__(self):
        self.messages = []
        self.refuse: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.refuse:
            return self.refuse.pop(0)
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(app):
    """An SMTP server on 127.0.0.1:<free port>; the app sends there (MAIL_HOST, MAIL_PORT)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=port, MAIL_SECURITY="none", MAIL_TIMEOUT=5)
    yield inbox
    controller.stop()


@pytest.fixture
def closed_port(app):
    """MAIL_PORT on which nothing listens: every connection is refused."""
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port(), MAIL_SECURITY="none", MAIL_TIMEOUT=5)
