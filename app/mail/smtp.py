"""One SMTP delivery with smtplib, and which failures are worth another try.

A 4xx answer, a refused or dropped connection and a timeout are temporary; a 5xx answer
(refused sender or recipient, failed authentication, rejected content) is permanent.
"""

import functools
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: from MAIL_HOST, MAIL_PORT, MAIL_SECURITY, MAIL_USER, MAIL_PASSWORD."""

    host: str
    port: int
    security: str = "none"  # none | starttls | tls
    user: str | None = None
    password: str | None = None
    timeout: float = 30


def settings_from(config, catcher_port: int | None = None) -> SmtpSettings | None:
    """The app's SMTP settings; the development catcher when no MAIL_HOST is set; None: mail is off."""
    if config.get("MAIL_HOST"):
        return SmtpSettings(
            config["MAIL_HOST"],
            config["MAIL_PORT"],
            config["MAIL_SECURITY"],
            config.get("MAIL_USER"),
            config.get("MAIL_PASSWORD"),
            config["MAIL_TIMEOUT"],
        )
    if catcher_port:
        return SmtpSettings("127.0.0.1", catcher_port, timeout=config["MAIL_TIMEOUT"])
    return None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context, made once: loading the system's certificates takes ~20 ms."""
    return ssl.create_default_context()


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send one message on a connection of its own. Raises what smtplib or the socket raise."""
    if settings.security == "tls":
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=tls_context()
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.security == "starttls":
            client.starttls(context=tls_context())
        if settings.user:
            client.login(settings.user, settings.password or "")
        client.send_message(message)


def is_temporary(exc: BaseException) -> bool:
    """True when another try may succeed: a 4xx answer, a connection problem, a timeout."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError))


def is_unreachable(exc: BaseException) -> bool:
    """True when the server gave no SMTP answer at all (refused, timed out, dropped): try no more now."""
    return not isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused) and isinstance(
        exc, smtplib.SMTPServerDisconnected | OSError
    )


def describe(exc: BaseException) -> str:
    """The failure as the outbox page shows it."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{rcpt}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for rcpt, (code, msg) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return f"SMTP {exc.smtp_code} {error}"
    return f"{type(exc).__name__}: {exc}"[:1000]
