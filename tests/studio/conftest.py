"""An analyst signed in to the studio, with the CSRF header its writes need."""

import re

import pytest

from tests.factories import login, make_user


class Studio:
    """A signed-in client whose JSON writes carry the session's CSRF token in X-CSRFToken."""

    def __init__(self, app, username):
        self.client = app.test_client()
        assert login(self.client, username).status_code == 302
        page = self.client.get("/inbox/").get_data(as_text=True)
        self.token = re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', page).group(1)

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
