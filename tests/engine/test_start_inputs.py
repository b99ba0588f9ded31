"""What `start_process` says about a type or a customer it cannot use: the field it names, in
which order, and that nothing of the ticket is written (one statement reads the type's latest
definition and the customer together)."""

import pytest

from app.engine import InvalidData, start_process
from app.extensions import db
from app.models import ProcessInstance, Ticket
from tests.factories import deploy_shipped, make_customer

START = {"question": "Where is my parcel?", "category": "delivery"}


def _nothing_written() -> bool:
    return db.session.execute(db.select(db.func.count(Ticket.id))).scalar() == 0 and (
        db.session.execute(db.select(db.func.count(ProcessInstance.id))).scalar() == 0
    )


@pytest.mark.parametrize("customer_id", [987654, "1", True, None, 1.0])
def test_a_customer_that_is_not_there_is_named_and_nothing_is_written(app, customer_id):
    deploy_shipped("general")
    make_customer()
    with pytest.raises(InvalidData) as raised:
        start_process("general", customer_id, "Parcel", START, actor="test")
    assert list(raised.value.errors) == ["customer_id"]
    assert raised.value.errors["customer_id"] == f"no customer with id {customer_id!r}"
    assert _nothing_written()


def test_an_unknown_type_is_named_before_the_customer(app):
    deploy_shipped("general")
    with pytest.raises(InvalidData) as raised:
        start_process("nope", 987654, "Parcel", START, actor="test")
    assert raised.value.errors == {"type": "unknown ticket type 'nope'"}
    assert _nothing_written()


def test_the_customer_read_with_the_definition_is_the_ticket_customer(app):
    deploy_shipped("general")
    make_customer(name="Someone Else")
    customer = make_customer(name="Omar Haddad", tier="silver")
    ticket, instance = start_process("general", customer.id, "Parcel", START, actor="test")
    db.session.expire_all()
    stored = db.session.get(Ticket, ticket.id)
    assert stored.customer_id == customer.id and stored.customer.name == "Omar Haddad"
    assert instance.ticket_id == ticket.id
