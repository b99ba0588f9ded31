"""SSRF: webhooks go to public http(s) addresses only, checked when saved and after DNS at delivery.

A private, loopback, link-local, multicast, reserved or unspecified target (IPv4 or IPv6, an
IPv4-mapped address judged by its IPv4 part) is refused unless WEBHOOK_ALLOW_PRIVATE=1 or
WEBHOOK_ALLOWED_HOSTS names it; the delivery connects to the address it checked.
"""

import socket

import pytest

from app.engine import deploy, start_process
from app.extensions import db
from app.models import WebhookDelivery, WebhookSubscription
from app.webhooks import TargetRefused, check_url, deliver_due_webhooks
from tests.diagrams import user_task_process
from tests.factories import csrf_of, login, make_customer_user, make_user
from tests.webhooks.conftest import subscribe

REFUSED = [
    ("http://10.0.0.5/hook", "a private address"),
    ("http://172.16.3.4/", "a private address"),
    ("http://192.168.1.1/", "a private address"),
    ("http://127.0.0.1:8080/", "a loopback address"),
    ("http://[::1]/", "a loopback address"),
    ("http://169.254.169.254/latest/meta-data", "a link-local address"),
    ("http://[fe80::1]/", "a link-local address"),
    ("http://[fc00::1]/", "a private address"),
    ("http://224.0.0.1/", "a multicast address"),
    ("http://[ff02::1]/", "a multicast address"),
    ("http://240.0.0.1/", "a reserved address"),
    ("http://0.0.0.0/", "an unspecified address"),
    ("http://[::]/", "an unspecified address"),
    ("http://[::ffff:10.0.0.1]/", "a private address"),
    ("http://[::ffff:127.0.0.1]/", "a loopback address"),
    ("http://[64:ff9b::a00:1]/", "a private address"),  # NAT64 of 10.0.0.1
    ("http://100.64.0.1/", "address"),  # carrier-grade NAT: not global
]


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_a_non_public_address_is_refused(app, url, why):
    with pytest.raises(TargetRefused, match=why):
        check_url(url)


@pytest.mark.parametrize("url", ["https://93.184.216.34/hook", "http://[2606:4700:4700::1111]:8443/x"])
def test_a_public_address_is_accepted(app, url):
    assert check_url(url).address in url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://93.184.216.34/", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("http://user:pw@93.184.216.34/", "no user name or password"),
        ("http:///nohost", "names no host"),
        ("", "a URL is required"),
    ],
)
def test_only_plain_http_and_https_urls_are_accepted(app, url, why):
    with pytest.raises(TargetRefused, match=why):
        check_url(url)


def test_configuration_may_allow_private_targets(app):
    app.config.update(WEBHOOK_ALLOWED_HOSTS="10.1.0.0/16, hooks.internal")
    assert check_url("http://10.1.2.3/").address == "10.1.2.3"
    with pytest.raises(TargetRefused):
        check_url("http://10.2.0.1/")
    app.config.update(WEBHOOK_ALLOWED_HOSTS="", WEBHOOK_ALLOW_PRIVATE=True)
    assert check_url("http://10.2.0.1/").address == "10.2.0.1"


@pytest.fixture
def dns(monkeypatch):
    """A resolver answering `answers[name]` for the test's names (and counting the questions)."""
    answers: dict[str, list[str]] = {}
    asked: list[str] = []
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    answers["asked"] = asked
    return answers


def test_a_name_resolving_to_a_private_address_is_refused_even_among_public_ones(app, dns):
    dns["mixed.example.test"] = ["93.184.216.34", "10.9.8.7"]
    with pytest.raises(TargetRefused, match=r"mixed.example.test \(10.9.8.7\) is a private address"):
        check_url("https://mixed.example.test/hook")


def _admin(client):
    make_user("root", "admin", password="pw")
    login(client, "root")
    return csrf_of(client.get("/admin/webhooks/new").get_data(as_text=True))


def test_a_private_target_is_refused_when_subscribed_with_a_4xx_naming_the_url(app, client):
    token = _admin(client)
    answer = client.post(
        "/admin/webhooks/new",
        data={
            "csrf_token": token,
            "url": "http://10.0.0.5/hook",
            "events": ["ticket.opened"],
            "active": "on",
        },
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "url: 10.0.0.5 is a private address" in page
    assert db.session.execute(db.select(WebhookSubscription)).first() is None


def test_a_target_whose_dns_turns_private_is_refused_at_delivery(app, client, receiver, dns):
    port = receiver.url.split(":")[2].split("/")[0]
    dns["hooks.example.test"] = ["93.184.216.34"]  # public when the admin subscribes it
    token = _admin(client)
    answer = client.post(
        "/admin/webhooks/new",
        data={
            "csrf_token": token,
            "url": f"http://hooks.example.test:{port}/h",
            "events": ["ticket.opened"],
            "active": "on",
        },
    )
    assert answer.status_code == 200 and "whsec_" in answer.get_data(as_text=True)
    dns["hooks.example.test"] = ["10.1.2.3"]  # then the name points inside
    _, customer = make_customer_user("jane")
    deploy(user_task_process())
    start_process("tiny", customer.id, "Broken", {})
    assert deliver_due_webhooks() == 1
    row = db.session.execute(db.select(WebhookDelivery)).scalar_one()
    assert row.state == "failed" and row.attempts == 1 and row.status_code is None
    assert row.last_error.startswith("refused: hooks.example.test (10.1.2.3) is a private address")
    assert receiver.requests == []


def test_the_delivery_connects_to_the_address_it_checked_and_names_the_host(app, receiver, dns):
    port = receiver.url.split(":")[2].split("/")[0]
    dns["hooks.example.test"] = ["127.0.0.1"]  # allowed in this test (WEBHOOK_ALLOWED_HOSTS=127.0.0.1)
    subscribe(f"http://hooks.example.test:{port}/h", events=["ticket.opened"])
    _, customer = make_customer_user("jane")
    deploy(user_task_process())
    start_process("tiny", customer.id, "Broken", {})
    dns["asked"].clear()
    assert deliver_due_webhooks() == 1
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.example.test:{port}"
    assert dns["asked"] == ["hooks.example.test"], "resolved once: the checked answer is the one used"
