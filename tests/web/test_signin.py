"""Signing in and out as an attacker sees it: `next` stays on this site, a captured cookie dies
with sign-out, guessing is slowed per (user, address) without locking the owner out."""

import logging
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import LoginAttempt
from tests.factories import csrf_of, login, make_user

HOME = "http://localhost/"
ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
OFFICE = {"REMOTE_ADDR": "198.51.100.7"}


def _login_from(client, environ, username, password, next_=None):
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    url = "/login" if next_ is None else f"/login?next={next_}"
    data = {"username": username, "password": password, "csrf_token": csrf_of(page)}
    return client.post(url, data=data, environ_base=environ)


# --- item 3: no open redirect -------------------------------------------------------------------

BYPASSES = [
    "/%09/evil.example/phish",  # a tab browsers drop: //evil.example
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/%5Cevil.example",  # /\evil.example: browsers read \ as /
    "%5C%5Cevil.example",
    "/%5C/evil.example",
    "https://evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "%0a/evil.example",
    "/%0d%0a/evil.example",
    "/%00/evil.example",
    "%20//evil.example",
    "/%E2%80%A8/evil.example",  # U+2028
    "/%C2%A0/evil.example",  # a no-break space
    "//%09evil.example",
    "/\\evil.example",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_sign_in_never_redirects_off_the_site(client, target):
    make_user("alice", "agent", password="pw")
    answer = _login_from(client, OFFICE, "alice", "pw", next_=target)
    # Control characters in a query string are refused at the edge (400) before sign-in looks.
    assert answer.status_code in (302, 400)
    assert answer.headers.get("Location", "/") == "/"


@pytest.mark.parametrize("target", ["/inbox/", "/inbox/?view=team&page=2", "/portal/tickets/5#comments"])
def test_sign_in_follows_next_within_the_site(client, target):
    make_user("alice", "agent", password="pw")
    answer = _login_from(client, OFFICE, "alice", "pw", next_=target.replace("&", "%26").replace("#", "%23"))
    assert answer.headers["Location"] == target


# --- item 7: sessions end server-side -----------------------------------------------------------


def _replay(app, cookie: str):
    """A second browser holding a copy of the captured session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_a_cookie_captured_before_sign_out_no_longer_works_after_it(app, client):
    make_user("alice", "agent", password="pw")
    login(client, "alice")
    captured = client.get_cookie("session").value
    assert _replay(app, captured).get("/inbox/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/inbox/").get_data(as_text=True))})
    answer = _replay(app, captured).get("/inbox/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_password_change_by_an_admin_ends_the_users_sessions(app, client):
    agent = make_user("alice", "agent", password="old-password")
    make_user("root", "admin", password="pw")
    login(client, "alice", "old-password")
    admin = app.test_client()
    login(admin, "root")
    form = {"name": "Alice", "role": "agent", "capacity": "20", "active": "on", "password": "new-password"}
    token = csrf_of(admin.get(f"/admin/users/{agent.id}").get_data(as_text=True))
    assert admin.post(f"/admin/users/{agent.id}", data={**form, "csrf_token": token}).status_code == 302
    assert client.get("/inbox/").status_code == 302
    assert admin.get("/admin/users").status_code == 200  # the admin's own session is untouched
    assert login(app.test_client(), "alice", "new-password").status_code == 302


def test_deactivation_ends_the_users_sessions(app, client):
    agent = make_user("alice", "agent", password="pw")
    make_user("root", "admin", password="pw")
    login(client, "alice")
    admin = app.test_client()
    login(admin, "root")
    token = csrf_of(admin.get(f"/admin/users/{agent.id}").get_data(as_text=True))
    form = {"name": "Alice", "role": "agent", "capacity": "20", "csrf_token": token}
    admin.post(f"/admin/users/{agent.id}", data=form)
    assert client.get("/inbox/").status_code == 302
    db.session.expire_all()
    assert not agent.active and agent.session_generation == 1


def test_an_admin_who_changes_their_own_password_stays_signed_in(app, client):
    root = make_user("root", "admin", password="old-password")
    login(client, "root", "old-password")
    token = csrf_of(client.get(f"/admin/users/{root.id}").get_data(as_text=True))
    form = {"name": "Root", "role": "admin", "capacity": "20", "active": "on", "password": "new-password"}
    client.post(f"/admin/users/{root.id}", data={**form, "csrf_token": token})
    assert client.get("/admin/users").status_code == 200


# --- item 8: throttling by (user, address) ------------------------------------------------------


def _fail(client, environ, times, username="alice"):
    for _ in range(times):
        assert _login_from(client, environ, username, "wrong").status_code == 401


def test_five_failures_make_the_pair_wait_before_the_next_try(client, clock):
    make_user("alice", "agent", password="pw")
    _fail(client, ATTACKER, 5)
    refused = _login_from(client, ATTACKER, "alice", "pw")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    assert "Too many failed sign-ins. Wait 30 seconds" in refused.get_data(as_text=True)
    clock.shift(timedelta(seconds=31))
    assert _login_from(client, ATTACKER, "alice", "pw").status_code == 302


def test_the_delay_doubles_with_every_further_failure_up_to_the_cap(client, clock):
    make_user("alice", "agent", password="pw")
    _fail(client, ATTACKER, 5)
    waits = []
    for _ in range(7):
        refused = _login_from(client, ATTACKER, "alice", "wrong")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.shift(timedelta(seconds=waits[-1]))
        _fail(client, ATTACKER, 1)
    assert waits == [30, 60, 120, 240, 480, 900, 900]


def test_a_refused_try_is_not_counted_and_checks_no_password(client, clock):
    make_user("alice", "agent", password="pw")
    _fail(client, ATTACKER, 5)
    for _ in range(10):
        assert _login_from(client, ATTACKER, "alice", "wrong").status_code == 429
    assert db.session.execute(db.select(db.func.count(LoginAttempt.id))).scalar() == 5


def test_the_right_password_works_at_once_from_an_address_that_has_not_failed(client, clock):
    make_user("alice", "agent", password="pw")
    _fail(client, ATTACKER, 5)
    assert _login_from(client, ATTACKER, "alice", "pw").status_code == 429
    assert _login_from(client, OFFICE, "alice", "pw").status_code == 302


def test_a_success_forgets_only_its_own_addresss_failures(app, client, clock):
    make_user("alice", "agent", password="pw")
    _fail(client, ATTACKER, 5)
    _fail(client, OFFICE, 2)
    assert _login_from(client, OFFICE, "alice", "pw").status_code == 302
    assert _login_from(app.test_client(), ATTACKER, "alice", "pw").status_code == 429


def test_one_address_failing_for_many_names_is_slowed_not_locked(app, client, clock):
    app.config["SIGNIN_ADDRESS_FREE_FAILURES"] = 20
    make_user("alice", "agent", password="pw")
    for n in range(21):
        _fail(client, OFFICE, 1, username=f"guess{n}")
    slowed = _login_from(client, OFFICE, "alice", "pw")
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "1"
    clock.shift(timedelta(seconds=1))
    assert _login_from(client, OFFICE, "alice", "pw").status_code == 302


def test_failures_older_than_the_window_no_longer_count(client, clock):
    make_user("alice", "agent", password="pw")
    _fail(client, ATTACKER, 5)
    clock.shift(timedelta(hours=1, seconds=1))
    _fail(client, ATTACKER, 4)
    assert _login_from(client, ATTACKER, "alice", "pw").status_code == 302


def test_sign_in_events_are_logged(client, clock, caplog):
    make_user("alice", "agent", password="pw")
    with caplog.at_level(logging.INFO, logger="app.web.auth.routes"):
        _fail(client, ATTACKER, 5)
        _login_from(client, ATTACKER, "alice", "pw")
        _login_from(client, OFFICE, "alice", "pw")
    messages = [r.getMessage() for r in caplog.records if r.name == "app.web.auth.routes"]
    assert messages.count("sign-in failed: user='alice' addr=203.0.113.9") == 5
    assert "sign-in throttled: user='alice' addr=203.0.113.9 wait=30s" in messages
    assert "sign-in succeeded: user='alice' addr=198.51.100.7" in messages


def test_failures_older_than_the_window_are_deleted_by_the_next_failure(client, clock):
    _fail(client, ATTACKER, 3, username="ghost")
    _fail(client, OFFICE, 2, username="alice")
    clock.shift(timedelta(hours=1, seconds=1))
    _fail(client, ATTACKER, 1, username="someone-else")  # the address's old rows go
    _fail(client, OFFICE, 1, username="alice")  # the name's old rows go
    rows = db.session.execute(db.select(LoginAttempt.username, LoginAttempt.remote_addr)).all()
    assert sorted(rows) == [("alice", "198.51.100.7"), ("someone-else", "203.0.113.9")]


def test_a_head_request_to_the_sign_in_page_is_no_sign_in_attempt(client, clock, caplog):
    """Link checkers and monitors send HEAD: it shows the page and counts as no failure."""
    with caplog.at_level(logging.INFO, logger="app.web.auth.routes"):
        for _ in range(10):
            assert client.head("/login", environ_base=ATTACKER).status_code == 200
    assert db.session.execute(db.select(db.func.count(LoginAttempt.id))).scalar() == 0
    assert "sign-in" not in caplog.text
