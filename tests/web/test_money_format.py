"""Every amount is shown with its currency: the `money` filter, a customer's currency, a ticket's."""

from flask import render_template_string

from app.extensions import db
from app.models import Ticket
from tests.factories import deploy_shipped, login, make_customer, make_customer_user


def test_the_money_filter_shows_two_decimals_thousands_and_the_code(app):
    assert render_template_string("{{ 1234.5|money('gbp') }}") == "1,234.50 GBP"
    assert render_template_string("{{ 7|money }}") == "7.00 EUR"
    assert render_template_string("{{ none|money }}") == "—"


def test_the_default_currency_comes_from_the_config(app):
    app.config["DEFAULT_CURRENCY"] = "CHF"
    assert render_template_string("{{ 10|money }}") == "10.00 CHF"
    assert make_customer().currency == "CHF"


def test_a_ticket_s_currency_is_its_start_data_s_else_its_customer_s(app):
    customer = make_customer()
    customer.currency = "GBP"
    plain = Ticket(type="return", subject="s", customer=customer, data={"amount": 5})
    ordered = Ticket(type="return", subject="s", customer=customer, data={"currency": "usd"})
    db.session.add_all([plain, ordered])
    assert (plain.currency, ordered.currency) == ("GBP", "USD")
    assert customer.profile()["currency"] == "GBP"


def test_a_form_asking_for_an_amount_says_the_customer_s_currency(app, client):
    deploy_shipped("return")
    _, customer = make_customer_user("kofi")
    customer.currency = "GBP"
    db.session.commit()
    login(client, "kofi")
    page = client.get("/portal/new/return").get_data(as_text=True)
    assert "Amount to pay back (GBP)" in page
