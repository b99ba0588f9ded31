"""Every page answers hostile input values with a 4xx, never a 5xx, and stores nothing odd.

The routes come from the app's URL map: each is called by a signed-in admin, agent and customer
with hostile values in its path (non-ASCII digits, integers beyond PostgreSQL's `integer`, NUL,
very long text) and in common query parameters and form fields (NUL, control characters, bytes
that are not UTF-8, lone surrogates written as JSON escapes). Ownership is tested elsewhere
(test_access.py); this is about values.
"""

import re

import pytest

from app.extensions import db
from app.models import Ticket
from tests.factories import csrf_of, deploy_shipped, login, make_customer_user, make_user

INT_VALUES = ("１", "٣", "²", "2147483648", str(2**70), "-1", "0x1")
TEXT_VALUES = ("%00", "a%01b", "x" * 400, "x" * 5000, "%ED%A0%80", "..%2F..%2Fetc")
QUERY_VALUES = ("%00", "%0D%0A", "%ED%A0%80", "²", str(2**70), "null", "x" * 5000)
FORM_VALUES = ("a\x00b", "x" * 20000, "²", str(2**70), '{"a": NaN}', '{"a": "\\ud800"}', "[" * 5000)
FORM_FIELDS = (
    "username",
    "name",
    "email",
    "skills",
    "capacity",
    "role",
    "password",
    "key",
    "strategy",
    "subject",
    "body",
    "message",
    "assignee",
    "process_data",
    "next",
    "comment",
    "rating",
    "category",
    "question",
)
QUERY_NAMES = ("page", "customer", "type", "status", "next", "view", "sort", "ticket_id", "version")


def _path(rule, value: str) -> str:
    """The rule's path with every argument replaced by `value` (int arguments too)."""
    return re.sub(r"<(?:[^<>:]+:)?[^<>]+>", value, rule.rule)


def _signed_in(app, who: str):
    client = app.test_client()
    assert login(client, who).status_code == 302
    return client


@pytest.fixture
def clients(app):
    deploy_shipped()
    make_user("root", "admin", password="pw")
    make_user("alice", "agent", teams=("returns",), password="pw")
    make_customer_user("jane")
    return {who: _signed_in(app, who) for who in ("root", "alice", "jane")}


def _page_rules(app):
    # /readyz says 503 on purpose here: the test schema is made by create_all, not by the migrations
    # (tests/test_health.py checks it on a migrated database).
    return [
        r
        for r in app.url_map.iter_rules()
        if not r.rule.startswith("/api/") and r.endpoint not in ("static", "readyz")
    ]


def _csrf(client, who: str) -> str:
    return csrf_of(client.get("/portal/" if who == "jane" else "/inbox/").get_data(as_text=True))


def test_hostile_path_values_are_never_a_server_error(app, clients):
    failures = []
    for rule in _page_rules(app):
        if not rule.arguments:
            continue
        for value in INT_VALUES + TEXT_VALUES:
            for who, client in clients.items():
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    data = {"csrf_token": _csrf(client, who)} if method == "POST" else None
                    answer = client.open(_path(rule, value), method=method, data=data)
                    if answer.status_code >= 500:
                        failures.append(f"{who} {method} {_path(rule, value)[:80]} -> {answer.status_code}")
    assert failures == []


def test_hostile_form_values_are_never_a_server_error(app, clients):
    """Every form a person can post, with each field it might read set to a hostile value."""
    failures = []
    for rule in _page_rules(app):
        if "POST" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        for value in FORM_VALUES:
            for who, client in clients.items():
                data = {name: value for name in FORM_FIELDS} | {"csrf_token": _csrf(client, who)}
                path = _path(rule, "1")
                answer = client.post(path, data=data)
                if answer.status_code >= 500:
                    failures.append(f"{who} POST {path} {value[:20]!r} -> {answer.status_code}")
    assert failures == []


def test_non_ascii_digits_and_huge_ids_in_paths_are_404(app, clients):
    for value in ("１", "2147483648", str(2**70)):
        assert clients["alice"].get(f"/inbox/tickets/{value}").status_code == 404
        assert clients["jane"].get(f"/portal/tickets/{value}").status_code == 404


def test_hostile_query_values_are_never_a_server_error(app, clients):
    failures = []
    for rule in _page_rules(app):
        if "GET" not in rule.methods or rule.arguments:
            continue
        for name in QUERY_NAMES:
            for value in QUERY_VALUES:
                for who, client in clients.items():
                    answer = client.get(f"{rule.rule}?{name}={value}")
                    if answer.status_code >= 500:
                        failures.append(f"{who} GET {rule.rule}?{name}={value[:20]} -> {answer.status_code}")
    assert failures == []


def test_a_nul_in_the_inbox_customer_filter_is_400_naming_the_parameter(clients):
    answer = clients["alice"].get("/inbox/?customer=%00")

    assert answer.status_code == 400
    assert "customer" in answer.get_data(as_text=True)


def test_query_text_that_is_not_utf8_is_400(clients):
    assert clients["alice"].get("/inbox/?customer=%ED%A0%80").status_code == 400


def test_a_nul_in_a_form_field_is_400_and_nothing_is_stored(app, clients):
    client = clients["jane"]
    form = client.get("/portal/new/general").get_data(as_text=True)
    answer = client.post(
        "/portal/new/general",
        data={"csrf_token": csrf_of(form), "subject": "a\x00b", "category": "other", "question": "q"},
    )

    assert answer.status_code == 400
    assert "subject" in answer.get_data(as_text=True)
    assert db.session.execute(db.select(Ticket)).first() is None
