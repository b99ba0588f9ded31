"""API tokens: named, scoped, optionally expiring, revocable; a password change or deactivation
revokes them all; only a hash is stored; the last use is recorded at most once a minute."""

from datetime import timedelta

from flask import Blueprint, g

from app.accounts import hash_token
from app.api.auth import token_required
from app.extensions import db
from app.models import ApiToken, User
from tests.factories import csrf_of, login, make_user

CUSTOMERS = "/api/v1/customers"


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _create(runner, *args):
    result = runner.invoke(args=["users", "create-token", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _row(token) -> ApiToken:
    db.session.expire_all()
    return db.session.execute(
        db.select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    ).scalar_one()


def test_create_token_without_options_still_works_as_the_readme_says(runner, client):
    make_user("admin", "admin")
    token = _create(runner, "admin")
    assert token.startswith("tf_")
    assert client.get(CUSTOMERS, headers=_bearer(token)).status_code == 200
    row = _row(token)
    assert row.name == "token-1" and row.scopes == "" and row.expires_at is None
    assert token not in row.token_hash and row.token_hash == hash_token(token)
    assert _row(_create(runner, "admin")).name == "token-2"


def test_a_token_with_a_name_a_lifetime_and_a_scope(runner, clock):
    make_user("mailer", "agent")
    token = _create(runner, "mailer", "--name", "mail-gateway", "--expires-in", "30", "--scope", "messages")
    row = _row(token)
    assert (row.name, row.scopes) == ("mail-gateway", "messages")
    assert row.expires_at - row.created_at == timedelta(days=30)


def test_a_name_is_unique_among_a_users_live_tokens(runner):
    make_user("admin", "admin")
    _create(runner, "admin", "--name", "ci")
    again = runner.invoke(args=["users", "create-token", "admin", "--name", "ci"])
    assert again.exit_code != 0 and "already has a token named 'ci'" in again.output


def test_an_unknown_scope_or_a_bad_lifetime_is_refused(runner):
    make_user("admin", "admin")
    assert runner.invoke(args=["users", "create-token", "admin", "--scope", "everything"]).exit_code != 0
    assert runner.invoke(args=["users", "create-token", "admin", "--expires-in", "0"]).exit_code != 0
    assert db.session.execute(db.select(db.func.count(ApiToken.id))).scalar() == 0


def test_an_expired_token_answers_401(runner, client, clock):
    make_user("admin", "admin")
    token = _create(runner, "admin", "--expires-in", "1")
    assert client.get(CUSTOMERS, headers=_bearer(token)).status_code == 200
    clock.shift(timedelta(days=1, seconds=1))
    assert client.get(CUSTOMERS, headers=_bearer(token)).status_code == 401


def test_revoke_by_name_or_by_id_answers_401_for_that_token_only(runner, client):
    make_user("admin", "admin")
    first, second, third = (_create(runner, "admin", "--name", n) for n in ("a", "b", "c"))
    assert runner.invoke(args=["users", "revoke", "admin", "a"]).exit_code == 0
    revoked = runner.invoke(args=["users", "revoke", "admin", str(_row(second).id)])
    assert revoked.exit_code == 0 and "revoked token" in revoked.output
    assert client.get(CUSTOMERS, headers=_bearer(first)).status_code == 401
    assert client.get(CUSTOMERS, headers=_bearer(second)).status_code == 401
    assert client.get(CUSTOMERS, headers=_bearer(third)).status_code == 200
    unknown = runner.invoke(args=["users", "revoke", "admin", "a"])
    assert unknown.exit_code != 0 and "no live token 'a'" in unknown.output


def test_tokens_lists_name_scopes_dates_and_state(runner, client, clock):
    make_user("admin", "admin")
    live = _create(runner, "admin", "--name", "ci", "--scope", "messages", "--expires-in", "7")
    _create(runner, "admin", "--name", "old")
    runner.invoke(args=["users", "revoke", "admin", "old"])
    client.get(CUSTOMERS, headers=_bearer(live))
    listing = runner.invoke(args=["users", "tokens", "admin"]).output.splitlines()
    assert listing[0].split() == ["id", "name", "scopes", "created", "expires", "last", "used", "state"]
    ci, old = listing[1].split(), listing[2].split()
    assert ci[1:3] == ["ci", "messages"] and ci[3:5] == ["2026-11-23", "09:00"]
    assert ci[5:7] == ["2026-11-30", "09:00"] and ci[7:9] == ["2026-11-23", "09:00"] and ci[-1] == "live"
    assert old[1] == "old" and old[-3] == "revoked" and "never" in old


def test_last_use_is_written_at_most_once_a_minute(runner, client, clock):
    make_user("admin", "admin")
    token = _create(runner, "admin")
    assert _row(token).last_used_at is None
    client.get(CUSTOMERS, headers=_bearer(token))
    first = _row(token).last_used_at
    clock.shift(timedelta(seconds=59))
    client.get(CUSTOMERS, headers=_bearer(token))
    assert _row(token).last_used_at == first
    clock.shift(timedelta(seconds=1))
    client.get(CUSTOMERS, headers=_bearer(token))
    assert _row(token).last_used_at == first + timedelta(seconds=60)


def _change_password_as_admin(app, user, **form):
    make_user("root", "admin", password="pw")
    admin = app.test_client()
    login(admin, "root")
    token = csrf_of(admin.get(f"/admin/users/{user.id}").get_data(as_text=True))
    data = {"name": user.name, "role": user.role, "capacity": "20", "csrf_token": token, **form}
    assert admin.post(f"/admin/users/{user.id}", data=data).status_code == 302


def test_a_password_change_revokes_every_token(app, runner, client):
    agent = make_user("alice", "agent", password="old-password")
    tokens = [_create(runner, "alice") for _ in range(2)]
    _change_password_as_admin(app, agent, active="on", password="new-password")
    assert all(client.get(CUSTOMERS, headers=_bearer(t)).status_code == 401 for t in tokens)
    assert all(_row(t).revoked_at is not None for t in tokens)


def test_deactivation_revokes_every_token(app, runner, client):
    agent = make_user("alice", "agent", password="pw")
    token = _create(runner, "alice")
    _change_password_as_admin(app, agent)  # the "active" box unticked
    assert _row(token).revoked_at is not None
    db.session.execute(db.update(User).where(User.id == agent.id).values(active=True))
    db.session.commit()
    assert client.get(CUSTOMERS, headers=_bearer(token)).status_code == 401  # reactivation does not revive it


def test_every_authenticated_request_carries_the_tokens_scopes(app, runner, client):
    probe = Blueprint("scopes_probe", __name__)

    @probe.get("/api/probe/scopes")
    @token_required()
    def scopes():
        return {"scopes": sorted(g.api_token_scopes), "frozen": isinstance(g.api_token_scopes, frozenset)}

    app.register_blueprint(probe)  # a test-only route: nothing else sets the scopes
    make_user("mailer", "agent")
    scoped = _create(runner, "mailer", "--name", "gateway", "--scope", "messages")
    plain = _create(runner, "mailer", "--name", "plain")
    answer = client.get("/api/probe/scopes", headers=_bearer(scoped))
    assert answer.json == {"scopes": ["messages"], "frozen": True}
    assert client.get("/api/probe/scopes", headers=_bearer(plain)).json == {"scopes": [], "frozen": True}
