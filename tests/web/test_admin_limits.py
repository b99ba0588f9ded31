"""Admins set approval limits per role and per person on a page; nobody else sees it."""

from decimal import Decimal

import pytest

from app.extensions import db
from app.models import ApprovalLimit
from tests.factories import csrf_of, login, make_user, set_limits

URL = "/admin/approval-limits"


@pytest.fixture
def admin_client(app, client):
    make_user("root", "admin", password="pw")
    login(client, "root")
    return client


def _post(client, data):
    token = csrf_of(client.get(URL).get_data(as_text=True))
    return client.post(URL, data={**data, "csrf_token": token})


def _limits():
    db.session.expire_all()
    rows = db.session.execute(db.select(ApprovalLimit)).scalars().all()
    return {r.role or f"user {r.user_id}": r.amount for r in rows}


@pytest.mark.parametrize("role", ["agent", "customer", "manager", "analyst"])
def test_the_limits_page_is_404_for_everyone_but_admins(app, client, role):
    make_user("someone", role, password="pw")
    login(client, "someone")
    assert client.get(URL).status_code == 404
    assert client.post(URL, data={"role-agent": "1"}).status_code in (400, 404)


def test_the_page_shows_the_limits_with_their_currency(admin_client):
    set_limits({"agent": 1000, "lead": 10000})
    page = admin_client.get(URL).get_data(as_text=True)
    assert 'value="1000.00"' in page and 'value="10000.00"' in page
    assert "Agents (EUR)" in page


def test_role_and_personal_limits_are_saved_as_decimals(admin_client):
    bob = make_user("bob", "agent")
    response = _post(
        admin_client,
        {"role-agent": "1000", "role-lead": "10000.50", "new_user": str(bob.id), "new_amount": "2500"},
    )
    assert response.status_code == 302
    assert _limits() == {
        "agent": Decimal("1000.00"),
        "lead": Decimal("10000.50"),
        f"user {bob.id}": Decimal("2500.00"),
    }
    page = admin_client.get(URL).get_data(as_text=True)
    assert f'id="user-{bob.id}"' in page and 'value="2500.00"' in page


def test_emptying_a_field_removes_the_limit(admin_client):
    bob = make_user("bob", "agent")
    set_limits({"agent": 1000}, {bob: 50})
    assert _post(admin_client, {"role-agent": "", f"user-{bob.id}": ""}).status_code == 302
    assert _limits() == {}


def test_bad_amounts_are_refused_naming_each_field_and_nothing_is_saved(admin_client):
    bob = make_user("bob", "agent")
    set_limits({"agent": 1000})
    response = _post(
        admin_client,
        {
            "role-agent": "12.345",
            "role-lead": "-5",
            "role-manager": "1e9",
            "new_user": str(bob.id),
            "new_amount": "x",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Agents: an amount of at most two decimals" in page
    assert "Team leads: an amount" in page and "Managers: an amount" in page
    assert "Personal limit: an amount" in page
    assert "Nothing was saved" in page
    assert _limits() == {"agent": Decimal("1000.00")}


def test_a_personal_limit_for_someone_unknown_is_refused(admin_client):
    response = _post(admin_client, {"new_user": "999999", "new_amount": "10", "user-abc": "5"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "choose an active staff member" in page and "no such active staff member" in page


def test_a_post_without_the_csrf_token_is_refused(admin_client):
    response = admin_client.post(URL, data={"role-agent": "5"})
    assert response.status_code == 400
    assert _limits() == {}
