"""The `clock` fixture starts before the fixtures a test lists ahead of it (see tests/conftest.py)."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from tests.conftest import CLOCK_START
from tests.factories import login, make_user


@pytest.fixture
def made_at(app):
    """A fixture that reads the time, listed before `clock` by the test below."""
    return utcnow()


@pytest.fixture
def signed_in(app, client):
    make_user("alice", "agent", password="pw")
    assert login(client, "alice").status_code == 302
    return client


def test_fixtures_listed_before_the_clock_already_run_on_it(made_at, clock):
    assert made_at == CLOCK_START == utcnow()


def test_a_sign_in_made_by_a_fixture_listed_before_the_clock_holds(signed_in, clock):
    # Signed on the wall clock instead, the session cookie would be dated away from CLOCK_START:
    # "in the future" (refused at once) after 2026-11-23, older than its 31 days before 2026-10-23.
    clock.shift(timedelta(minutes=5))
    assert signed_in.get("/inbox/").status_code == 200
