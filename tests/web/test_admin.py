"""Admins manage users and teams on a page; nobody else sees it."""

import lxml.html
import pytest

from app.extensions import db
from app.models import Customer, Team, User
from tests.factories import csrf_of, login, make_customer_user, make_team, make_user


@pytest.fixture
def admin_client(app, client):
    make_user("root", "admin", password="pw")
    make_team("returns")
    login(client, "root")
    return client


def _post(client, url, data):
    token = csrf_of(client.get("/admin/users").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


@pytest.mark.parametrize("role", ["agent", "customer", "manager", "analyst"])
def test_admin_pages_are_404_for_other_roles(app, client, role):
    make_user("someone", role, password="pw")
    login(client, "someone")
    assert client.get("/admin/users").status_code == 404
    assert client.get("/admin/users/new").status_code == 404


def test_admin_pages_need_sign_in(client):
    assert client.get("/admin/users").status_code == 302


def test_admin_lists_users_and_teams(admin_client):
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "root" in page and "returns" in page


def test_creating_a_user_with_bad_fields_shows_each_error_and_saves_nothing(admin_client):
    answer = _post(
        admin_client,
        "/admin/users/new",
        {"username": "bad name!", "name": "", "role": "wizard", "capacity": "0", "password": "short"},
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    for message in ("letters, digits", "a name is required", "one of customer", "1 to 500", "at least 8"):
        assert message in page
    assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 1


def test_creating_an_agent_in_a_team_as_lead(admin_client):
    answer = _post(
        admin_client,
        "/admin/users/new",
        {
            "username": "nina",
            "name": "Nina",
            "role": "agent",
            "capacity": "15",
            "password": "long-password",
            "skills": "returns, refunds",
            "teams": "returns",
            "lead": "returns",
            "active": "on",
        },
    )
    assert answer.status_code == 302
    nina = db.session.execute(db.select(User).where(User.username == "nina")).scalar()
    assert (nina.skills, nina.capacity, nina.team_keys, nina.leads("returns")) == (
        "returns,refunds",
        15,
        ["returns"],
        True,
    )
    assert login(admin_client.application.test_client(), "nina", "long-password").status_code == 302


def test_creating_a_customer_user_creates_the_profile(admin_client):
    _post(
        admin_client,
        "/admin/users/new",
        {
            "username": "cust",
            "name": "Cust",
            "role": "customer",
            "capacity": "20",
            "password": "long-password",
            "active": "on",
        },
    )
    user = db.session.execute(db.select(User).where(User.username == "cust")).scalar()
    assert db.session.execute(db.select(Customer).where(Customer.user_id == user.id)).scalar() is not None


def test_deactivated_user_can_no_longer_sign_in(admin_client):
    agent = make_user("gone", "agent", password="long-password")
    _post(admin_client, f"/admin/users/{agent.id}", {"name": "Gone", "role": "agent", "capacity": "20"})
    fresh = admin_client.application.test_client()
    assert login(fresh, "gone", "long-password").status_code == 401


def test_team_strategy_can_be_changed(admin_client):
    team = db.session.execute(db.select(Team).where(Team.key == "returns")).scalar()
    _post(admin_client, f"/admin/teams/{team.id}", {"name": "Returns", "strategy": "least_loaded"})
    db.session.expire_all()
    assert db.session.get(Team, team.id).strategy == "least_loaded"


def test_form_without_csrf_token_is_refused(admin_client):
    answer = admin_client.post("/admin/teams", data={"key": "x", "name": "X", "strategy": "skills"})
    assert answer.status_code == 400
    assert db.session.execute(db.select(Team).where(Team.key == "x")).scalar() is None


def test_an_admin_sets_a_customer_s_currency_and_a_bad_code_is_refused_naming_the_field(admin_client):
    user, customer = make_customer_user("jane")
    url = f"/admin/users/{user.id}"
    page = lxml.html.fromstring(admin_client.get(url).get_data(as_text=True))
    assert page.xpath("//input[@id='currency']/@value") == ["EUR"]
    fields = {"name": "Jane Doe", "role": "customer", "capacity": "20", "active": "on"}
    answer = _post(admin_client, url, {**fields, "currency": "Euro"})
    assert answer.status_code == 422
    page = lxml.html.fromstring(answer.get_data(as_text=True))
    error = page.xpath("string(//input[@id='currency']/following-sibling::p[@class='error'])")
    assert error == "three letters of an ISO 4217 code, e.g. EUR"
    assert page.xpath("string(//label[@for='currency'])").startswith("Currency")
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).currency == "EUR"
    assert _post(admin_client, url, {**fields, "currency": "gbp"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).currency == "GBP"


def test_a_new_customer_gets_the_currency_typed_and_agents_have_no_currency_field(admin_client):
    _post(
        admin_client,
        "/admin/users/new",
        {
            "username": "sam",
            "name": "Sam",
            "role": "customer",
            "capacity": "20",
            "password": "long-password",
            "currency": "USD",
        },
    )
    sam = db.session.execute(db.select(User).where(User.username == "sam")).scalar()
    assert (
        db.session.execute(db.select(Customer.currency).where(Customer.user_id == sam.id)).scalar() == "USD"
    )
    agent = make_user("nina", "agent", password="long-password")
    assert 'id="currency"' not in admin_client.get(f"/admin/users/{agent.id}").get_data(as_text=True)
