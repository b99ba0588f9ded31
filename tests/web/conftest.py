"""Fixtures of the inbox's page tests: staff in teams, and `seed` for inbox rows on tickets of their own."""

from datetime import timedelta
from uuid import uuid4

import pytest

from app import sla
from app.engine.runtime.ticket_copies import copies
from app.extensions import db
from app.models import Customer, HumanTask, ProcessDefinition, ProcessInstance, Ticket
from tests.factories import make_customer, make_user


@pytest.fixture
def people(app):
    return {
        name: make_user(name, role, teams=teams, lead=lead, password="pw")
        for name, role, teams, lead in (
            ("alice", "agent", ("returns",), False),
            ("bob", "agent", ("returns",), False),
            ("carol", "agent", ("credit",), False),
            ("lena", "agent", ("returns",), True),
            ("mike", "manager", ("returns",), False),
            ("root", "admin", (), False),
        )
    }


@pytest.fixture
def seed(app, people):
    """seed(team=..., assignee=..., ...) -> an inbox row on a ticket of its own (list tests only)."""
    definition = ProcessDefinition(
        key="return", version=1, kind="bpmn", source=b"<x/>", checksum="c", forms={}
    )
    db.session.add(definition)
    db.session.flush()
    instance = ProcessInstance(definition_id=definition.id, workflow="{}")
    db.session.add(instance)
    db.session.commit()
    customers: dict[str, Customer] = {}

    def make(
        team="returns",
        assignee=None,
        priority="normal",
        ticket_type="return",
        status="new",
        customer="Jane Doe",
        due=None,
        sla_due=None,
        title="Review",
        sla_target=None,
    ):
        if customer not in customers:
            customers[customer] = make_customer(name=customer)
        ticket = Ticket(
            type=ticket_type,
            subject=f"{title} ticket",
            customer_id=customers[customer].id,
            priority=priority,
            status=status,
            sla_due_at=sla_due,
            sla_target_seconds=sla_target,
            # app.sla sets it with the due time; here on the wall clock (as migration 0026 does)
            sla_at_risk_at=sla_due - timedelta(seconds=sla.at_risk_window(sla_target or 0))
            if sla_due
            else None,
        )
        db.session.add(ticket)
        db.session.flush()
        task = HumanTask(
            id=str(uuid4()),
            instance_id=instance.id,
            ticket_id=ticket.id,
            name="review",
            title=title,
            team=team,
            assignee_id=people[assignee].id if assignee else None,
            due_at=due,
            **copies(ticket),
        )
        db.session.add(task)
        db.session.commit()
        return task

    return make
