"""Fixtures for the ticket conversation: a customer who signs in, an agent, and a complaint to close."""

import pytest

from tests.conversation.desk import COMPLAINT_START, Desk  # noqa: F401  (COMPLAINT_START: for the tests)
from tests.factories import deploy_shipped, make_customer_user, make_user


@pytest.fixture
def desk(app):
    deploy_shipped()
    agent = make_user(
        "alice", "agent", teams=("returns", "credit", "support", "customer-success"), password="pw"
    )
    lead = make_user("lena", "agent", teams=("support", "customer-success"), lead=True, password="pw")
    user, customer = make_customer_user("jane", name="Jane Doe")
    return Desk(agent=agent, lead=lead, user=user, customer=customer)
