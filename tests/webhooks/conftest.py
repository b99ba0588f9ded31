"""A real HTTP receiver on loopback (http.server in a thread) and subscriptions that point at it.

Loopback is a private address: the app fixture here allows 127.0.0.1 through the allow-list
(WEBHOOK_ALLOWED_HOSTS), the way an operator would allow one internal receiver.
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.clock import utcnow
from app.extensions import db
from app.models import WEBHOOK_EVENTS, WebhookSubscription
from app.webhooks import new_secret, subscriptions_changed, verify


class Receiver:
    """Records every request; answers with `statuses` in turn (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.extra_headers: dict[str, str] = {}
        self.secret: str | None = None
        self.url = ""

    def verified(self, request: dict, now: float) -> bool:
        """The receiver's own check (docs/webhooks.md): signature over timestamp.body, recent."""
        headers = request["headers"]
        return verify(
            self.secret,
            headers["X-Ticketflow-Signature"],
            headers["X-Ticketflow-Timestamp"],
            request["body"],
            now,
        )

    def events(self) -> list[str]:
        return [json.loads(r["body"])["event"] for r in self.requests]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's hook name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            answer = b'{"ok": true}' if status < 300 else b"receiver says no"
            self.send_response(status)
            for name, value in receiver.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver(app):
    """The receiver on 127.0.0.1:<free port>, allowed by WEBHOOK_ALLOWED_HOSTS=127.0.0.1."""
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ticketflow?src=test"
    app.config.update(WEBHOOK_ALLOWED_HOSTS="127.0.0.1", WEBHOOK_TIMEOUT=5)
    yield found
    server.shutdown()
    server.server_close()


def subscribe(url: str, events=WEBHOOK_EVENTS, active: bool = True) -> WebhookSubscription:
    """A subscription (committed) for `url`, its secret kept on the row."""
    now = utcnow()
    row = WebhookSubscription(
        url=url, events=list(events), secret=new_secret(), active=active, created_at=now, updated_at=now
    )
    db.session.add(row)
    db.session.commit()
    subscriptions_changed()  # as the admin pages do
    return row


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers (a hung receiver)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()
