"""The development mail catcher: an SMTP server on loopback keeping every message it receives.

`make run` (the embedded worker, or `flask worker`) starts it when MAIL_CATCHER=1 (the default in
development) and no MAIL_HOST is set; the worker then sends there. Messages are kept as `.eml`
files in `instance/mail/`, newest shown first at /dev/mail (admins, development only).
"""

import logging
import secrets
import socket
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller

from app.clock import utcnow

log = logging.getLogger(__name__)
NAME_LENGTH = 38  # <UTC timestamp>-<random>.eml


class _Keep:
    """aiosmtpd handler: write each message to the catcher's directory."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(6)}.eml"
        (self.directory / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class MailCatcher:
    """An aiosmtpd server on 127.0.0.1:`port` (0: any free port) writing into `directory`."""

    def __init__(self, directory: Path, port: int = 0):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.controller = Controller(_Keep(self.directory), hostname="127.0.0.1", port=self.port)

    def start(self) -> "MailCatcher":
        self.controller.start()
        log.info("mail catcher listening on 127.0.0.1:%s (read the mails at /dev/mail)", self.port)
        return self

    def stop(self) -> None:
        self.controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_catcher(app) -> MailCatcher | None:
    """Start the app's catcher once (MAIL_CATCHER=1 and no MAIL_HOST); a busy port is logged, not fatal."""
    if not app.config.get("MAIL_CATCHER") or app.config.get("MAIL_HOST"):
        return None
    if "mail_catcher" in app.extensions:
        return app.extensions["mail_catcher"]
    try:
        catcher = MailCatcher(mail_dir(app), app.config["MAIL_CATCHER_PORT"]).start()
    except (OSError, RuntimeError) as exc:
        log.warning("mail catcher not started (%s); mail stays in the outbox", exc)
        return None
    app.extensions["mail_catcher"] = catcher
    return catcher


def mail_dir(app) -> Path:
    """Where the catcher keeps its messages: MAIL_CATCHER_DIR, else instance/mail."""
    return Path(app.config.get("MAIL_CATCHER_DIR") or Path(app.instance_path) / "mail")


def caught(directory: Path, limit: int = 50) -> list[tuple[str, EmailMessage]]:
    """The newest `limit` messages kept in `directory`, as (name, message)."""
    if not directory.is_dir():
        return []
    names = sorted((p.name for p in directory.glob("*.eml")), reverse=True)[:limit]
    return [(name, read(directory, name)) for name in names]


def read(directory: Path, name: str) -> EmailMessage | None:
    """One kept message by its file name, or None (a name that is not one of ours is never opened)."""
    if len(name) != NAME_LENGTH or not name.endswith(".eml") or "/" in name or name.startswith("."):
        return None
    path = directory / name
    if not path.is_file():
        return None
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())
