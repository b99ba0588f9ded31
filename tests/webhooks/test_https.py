"""https targets: the socket goes to the checked address, TLS names the URL's host (SNI) and the
certificate must be valid for it.

The receiver serves a self-signed certificate for hooks.example.test (tests/fixtures, a test key
only); the fake DNS answer points the name at 127.0.0.1, allowed in these tests.
"""

import socket
import ssl
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from app.engine import deploy, start_process
from app.extensions import db
from app.models import WebhookDelivery
from app.webhooks import deliver_due_webhooks
from tests.diagrams import user_task_process
from tests.factories import make_customer_user
from tests.webhooks.conftest import Receiver, _handler, subscribe

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CERT, KEY = FIXTURES / "webhook_tls_cert.pem", FIXTURES / "webhook_tls_key.pem"


@pytest.fixture
def tls_receiver(app, monkeypatch):
    """An https receiver on 127.0.0.1 for hooks.example.test; records the TLS server names asked for."""
    found = Receiver()
    found.server_names = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERT, KEY)
    context.sni_callback = lambda sock, name, ctx: found.server_names.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    app.config.update(WEBHOOK_ALLOWED_HOSTS="127.0.0.1", WEBHOOK_TIMEOUT=5)
    found.url = f"https://hooks.example.test:{port}/tls"
    yield found
    server.shutdown()
    server.server_close()


def _deliver_one(url: str) -> WebhookDelivery:
    subscribe(url, events=["ticket.opened"])
    _, customer = make_customer_user("jane")
    deploy(user_task_process())
    start_process("tiny", customer.id, "Broken", {})
    assert deliver_due_webhooks() == 1
    db.session.expire_all()
    return db.session.execute(db.select(WebhookDelivery)).scalar_one()


def test_an_untrusted_certificate_is_refused_and_tried_again(app, tls_receiver, clock):
    row = _deliver_one(tls_receiver.url)
    assert (row.state, row.status_code) == ("pending", None)
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert tls_receiver.requests == []


def test_a_trusted_certificate_for_the_name_gets_the_delivery_by_its_server_name(
    app, tls_receiver, clock, monkeypatch
):
    default = ssl.create_default_context

    def trusting(*args, **kwargs):  # as if the test certificate were issued by a public CA
        context = default(*args, **kwargs)
        context.load_verify_locations(CERT)
        return context

    monkeypatch.setattr(ssl, "create_default_context", trusting)
    row = _deliver_one(tls_receiver.url)
    assert (row.state, row.status_code) == ("sent", 200)
    assert tls_receiver.server_names == ["hooks.example.test"]
    [request] = tls_receiver.requests
    assert request["headers"]["Host"] == tls_receiver.url.split("/")[2]
