"""No usable secret ships with the code: a random key is made on the first run and kept, production
refuses to start without one, and what the old default signed is worthless."""

import stat

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_login.utils import _create_identifier
from itsdangerous import URLSafeTimedSerializer

from app import create_app
from app.config import Config, MissingSecretKey, secret_key
from app.handlers.feedback import SURVEY_SALT
from tests.factories import make_user

OLD_DEFAULT = "dev-only-change-me"
BROWSER = "Mozilla/5.0 (the victim's browser)"


def _app(tmp_path, **config):
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'key.db'}", "SECRET_KEY": None}
    return create_app({**settings, "INSTANCE_PATH": str(tmp_path / "instance"), **config})


def test_no_default_key_ships_with_the_code():
    assert Config.SECRET_KEY != OLD_DEFAULT
    assert OLD_DEFAULT not in (Config.__dict__.get("SECRET_KEY") or "")


def test_the_first_run_writes_a_random_key_that_later_runs_reuse(tmp_path):
    first = _app(tmp_path).config["SECRET_KEY"]
    again = _app(tmp_path).config["SECRET_KEY"]
    assert first == again and len(first) >= 32 and first != OLD_DEFAULT
    path = tmp_path / "instance" / "secret_key"
    assert path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no draft left behind


def test_another_instance_gets_another_key(tmp_path):
    assert secret_key(tmp_path / "a", production=False) != secret_key(tmp_path / "b", production=False)


def test_a_key_given_in_the_configuration_wins_and_writes_no_file(tmp_path):
    app = _app(tmp_path, SECRET_KEY="k" * 40)
    assert app.config["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_refuses_to_start_without_a_key(tmp_path):
    with pytest.raises(MissingSecretKey, match="TICKETFLOW_ENV=production needs SECRET_KEY"):
        _app(tmp_path, TICKETFLOW_ENV="production")
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_refuses_a_short_key(tmp_path):
    with pytest.raises(MissingSecretKey, match="too short"):
        _app(tmp_path, TICKETFLOW_ENV="production", SECRET_KEY=OLD_DEFAULT)


def test_production_starts_with_a_long_key(tmp_path):
    assert _app(tmp_path, TICKETFLOW_ENV="production", SECRET_KEY="s" * 64).config["SECRET_KEY"] == "s" * 64


def _forged_session(app, key: str, user) -> str:
    """A session cookie for `user`, signed with `key`, as an attacker knowing the key would make it."""
    signer = Flask("forger")
    signer.secret_key = key
    with app.test_request_context(
        "/", headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        identifier = _create_identifier()
    payload = {"_user_id": user.get_id(), "_fresh": True, "_id": identifier}
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(payload)


def test_a_session_forged_with_the_old_default_key_is_refused(app, client, tmp_path):
    app.config["SECRET_KEY"] = secret_key(tmp_path / "instance", production=False)
    agent = make_user("alice", "agent", password="pw")
    client.set_cookie("session", _forged_session(app, OLD_DEFAULT, agent))
    assert client.get("/inbox/", headers={"User-Agent": BROWSER}).status_code == 302
    control = app.test_client()  # the same forgery with the real key gets in: the method is sound
    control.set_cookie("session", _forged_session(app, app.config["SECRET_KEY"], agent))
    assert control.get("/inbox/", headers={"User-Agent": BROWSER}).status_code == 200


def test_a_survey_link_forged_with_the_old_default_key_is_refused(app, client, tmp_path):
    app.config["SECRET_KEY"] = secret_key(tmp_path / "instance", production=False)
    forged = URLSafeTimedSerializer(OLD_DEFAULT, salt=SURVEY_SALT).dumps({"r": 1, "n": "x"})
    answer = client.get(f"/survey/{forged}")
    assert answer.status_code == 400 and "This link does not work" in answer.get_data(as_text=True)
    genuine = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SURVEY_SALT).dumps({"r": 1, "n": "x"})
    assert client.get(f"/survey/{genuine}").status_code == 410  # signature accepted; no such survey
