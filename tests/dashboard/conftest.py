"""A refund ticket in an incident (its handler refused amount -5), and the people who look at it."""

from dataclasses import dataclass

import pytest

from app.engine import deploy, start_process
from app.extensions import db
from app.models import Customer, Incident, TeamMember
from app.worker import drain
from tests.dashboard.diagrams import REFUND_XML
from tests.factories import csrf_of, login, make_customer_user, make_user


@dataclass
class Refund:
    ticket_id: int
    instance_id: int
    incident_id: int


def open_failed_refund(amount: float = -5, subject: str = "Refund for order SO-77") -> Refund:
    """A refund ticket for the first customer whose handler refused `amount`: an open incident."""
    ticket, instance = start_process("refund", _customer_id(), subject, {"amount": amount, "note": "urgent"})
    drain()
    incident = db.session.execute(
        db.select(Incident).where(Incident.instance_id == instance.id, Incident.resolved_at.is_(None))
    ).scalar_one()
    return Refund(ticket.id, instance.id, incident.id)


def _customer_id() -> int:
    return db.session.execute(db.select(Customer.id).order_by(Customer.id)).scalars().first()


@pytest.fixture
def refund(app):
    """max (manager, sees all), sam (manager of support), lee (lead of support), alice (agent), jane
    (customer); jane's refund ticket stopped at `issue_refund` with an incident."""
    deploy(REFUND_XML)
    make_user("max", "manager", password="pw")
    make_user("sam", "manager", teams=("support",), password="pw")
    lee = make_user("lee", "agent", teams=("support",), password="pw")
    db.session.execute(db.update(TeamMember).where(TeamMember.user_id == lee.id).values(is_lead=True))
    make_user("alice", "agent", teams=("returns",), password="pw")
    make_customer_user("jane")
    db.session.commit()
    return open_failed_refund()


def signed_in(client, username: str):
    login(client, username)
    return client


def csrf(client) -> str:
    return csrf_of(client.get("/inbox/").get_data(as_text=True))
