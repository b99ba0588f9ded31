"""Helpers for the e-mail-in tests: the gateway on loopback, mails as customers write them, a desk."""

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from app.engine import receive_customer_mail
from app.extensions import db
from app.mail.gateway import MailGateway
from app.models import InboundMail
from tests.conversation.desk import COMPLAINT_START, Desk  # noqa: F401  (the mail tests import them from here)


def start_gateway(app) -> MailGateway:
    """`flask mail-gateway`'s server on 127.0.0.1:<free port>, delivering to the engine."""
    return MailGateway(app, receive_customer_mail, "127.0.0.1", 0).start()


def mail(
    sender: str = "Jane Doe <jane@example.com>",
    subject: str = "Hello",
    body: str = "Hello, my parcel is broken.",
    to: str = "support@ticketflow.example",
    headers: dict | None = None,
    files: tuple[tuple[str, str, bytes], ...] = (),
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, kind, data in files:
        maintype, _, subtype = kind.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def send(gateway: MailGateway, message: EmailMessage | bytes, mail_from: str | None = None, to=None) -> None:
    """Send over SMTP to the gateway as an MTA would; the test's own session reads afresh afterwards."""
    db.session.commit()  # end the test's read transaction: the gateway writes from its own thread
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=10) as client:
        if isinstance(message, bytes):
            client.sendmail(mail_from or "jane@example.com", to or ["support@ticketflow.example"], message)
        else:
            client.send_message(message, from_addr=mail_from, to_addrs=to)
    db.session.expire_all()


def outcomes() -> list[tuple[str, int | None]]:
    db.session.expire_all()
    return [
        (row.outcome, row.ticket_id)
        for row in db.session.execute(db.select(InboundMail).order_by(InboundMail.id)).scalars()
    ]
