"""An analyst signed in to the studio, with the CSRF header its writes need."""

import re

import pytest
from flask_wtf.csrf import generate_csrf

from tests.factories import login, make_user


class Studio:
    """A signed-in client whose JSON writes carry the session's CSRF token in X-CSRFToken."""

    def __init__(self, app, username):
        self.client = app.test_client()
        assert login(self.client, username).status_code == 302
        with self.client.application.test_request_context():
            pass
        page = self.client.get("/inbox/").get_data(as_text=True)
        match = re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', page)
        self.token = match.group(1) if match else self._token_from_session()

    def _token_from_session(self):
        with self.client.session_transaction() as session:
            pass
        with self.client.application.test_request_context():
            from flask import session as flask_session

            flask_session.update(session)
            return generate_csrf()

    def get(self, url):
        return self.client.get(url)

    def send(self, method, url, json=None):
        return self.client.open(url, method=method, json=json or {}, headers={"X-CSRFToken": self.token})

    def post(self, url, json=None):
        return self.send("POST", url, json)

    def put(self, url, json=None):
        return self.send("PUT", url, json)

    def delete(self, url):
        return self.send("DELETE", url)


@pytest.fixture
def analyst(app):
    make_user("ann", "analyst", password="pw")
    return Studio(app, "ann")


@pytest.fixture
def other_analyst(app):
    make_user("otto", "analyst", password="pw")
    return Studio(app, "otto")
