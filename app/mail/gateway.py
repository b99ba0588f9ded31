"""E-mail in: the SMTP server (aiosmtpd) that takes replies and new mails for the support address.

`flask mail-gateway` runs it on MAIL_GATEWAY_HOST:MAIL_GATEWAY_PORT (loopback by default: a
real MTA in front relays to it, docs/mail.md). It accepts recipients the app answers for
(`inbound.is_ours`: the reply-to address, its `+<ticket>` forms, MAIL_GATEWAY_ADDRESSES) and
refuses the others with 550; a message over MAIL_GATEWAY_MAX_BYTES gets 552. Each accepted
message is handed, as received, to `deliver(raw, mail_from, rcpt_tos)` (the engine command
`receive_customer_mail`, passed in by the caller: this layer never imports the engine) in the
app's context. A message the engine refuses on purpose gets 550; any other failure is logged
and answered 451, so the sending MTA tries again later and the mail is never lost or crashes
the server.
"""

import logging
from collections.abc import Callable

from aiosmtpd.controller import Controller

from app.extensions import db
from app.mail.inbound import is_ours

log = logging.getLogger(__name__)
Deliver = Callable[[bytes, str | None, list[str]], str]


class Refused(Exception):
    """Raised by `deliver` for a message that must be refused for good (answered 550)."""


class _Handler:
    """aiosmtpd handler: recipients checked at RCPT, each message delivered at DATA."""

    def __init__(self, app, deliver: Deliver, refused: tuple[type[BaseException], ...]):
        self.app, self.deliver, self.refused = app, deliver, (Refused, *refused)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if not is_ours(address, self.app.config):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="replace")
        with self.app.app_context():
            try:
                outcome = self.deliver(raw, envelope.mail_from, list(envelope.rcpt_tos))
            except self.refused as exc:
                log.info("mail from %r refused: %s", envelope.mail_from, exc)
                return f"550 5.7.1 {_line(str(exc))}"
            except Exception:
                log.exception("mail from %r could not be processed", envelope.mail_from)
                return "451 4.3.0 the message could not be processed now; try again later"
            finally:
                db.session.remove()
        log.info("mail from %r: %s", envelope.mail_from, outcome)
        return f"250 2.0.0 {outcome}"


def _line(text: str) -> str:
    return " ".join(text.split())[:200] or "refused"


class MailGateway:
    """The gateway's SMTP server on `host`:`port` (0: any free port), delivering with `deliver`."""

    def __init__(
        self,
        app,
        deliver: Deliver,
        host: str | None = None,
        port: int | None = None,
        refused: tuple[type[BaseException], ...] = (),
    ):
        config = app.config
        self.host = host or config["MAIL_GATEWAY_HOST"]
        self.port = port if port is not None else config["MAIL_GATEWAY_PORT"]
        if not self.port:
            from app.mail.catcher import free_port

            self.port = free_port()
        self.controller = Controller(
            _Handler(app, deliver, refused),
            hostname=self.host,
            port=self.port,
            data_size_limit=config["MAIL_GATEWAY_MAX_BYTES"],
        )

    def start(self) -> "MailGateway":
        self.controller.start()
        log.info("mail gateway listening on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        self.controller.stop()


def start_embedded_gateway(app, deliver: Deliver) -> MailGateway | None:
    """Start the app's gateway once inside the worker (MAIL_GATEWAY_EMBEDDED=1, development);
    a busy port is logged, not fatal."""
    if not app.config.get("MAIL_GATEWAY_EMBEDDED"):
        return None
    if "mail_gateway" in app.extensions:
        return app.extensions["mail_gateway"]
    try:
        gateway = MailGateway(app, deliver).start()
    except (OSError, RuntimeError) as exc:
        log.warning("mail gateway not started (%s); replies by e-mail are not taken", exc)
        return None
    app.extensions["mail_gateway"] = gateway
    return gateway
