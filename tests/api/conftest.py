"""API fixtures: staff with tokens, the shipped workflows deployed, a customer."""

import pytest

from tests.factories import deploy_shipped, make_customer, make_user, token_for


class Api:
    """A tiny client that sends the bearer token of one user."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def _headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url, **kw):
        return self.client.get(url, headers=self._headers(), **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, json=json, headers=self._headers(), **kw)


@pytest.fixture
def staff(app, client):
    users = {
        "admin": make_user("admin", "admin"),
        "agent": make_user("alice", "agent", teams=("returns",)),
        "other_agent": make_user("bob", "agent", teams=("returns",)),
        "analyst": make_user("ana", "analyst"),
        "manager": make_user("max", "manager"),
    }
    return {role: Api(client, token_for(user)) for role, user in users.items()}


@pytest.fixture
def shipped(app):
    deploy_shipped()
    return make_customer()
