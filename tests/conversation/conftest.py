"""Fixtures for the ticket conversation: a customer who signs in, an agent, and a complaint to close."""

from dataclasses import dataclass

import pytest

from app.engine import complete_task, start_process
from app.extensions import db
from app.models import HumanTask, Ticket
from app.worker import drain
from tests.factories import deploy_shipped, make_customer_user, make_user

COMPLAINT_START = {"description": "The courier was rude", "severity": "high"}


@dataclass
class Desk:
    agent: object
    lead: object
    user: object
    customer: object

    def open(self, ticket_type: str = "complaint", data: dict | None = None, subject: str = "Rude courier"):
        ticket, _ = start_process(
            ticket_type, self.customer.id, subject, data or COMPLAINT_START, actor="jane"
        )
        drain()
        return db.session.get(Ticket, ticket.id)

    def tasks(self, ticket: Ticket) -> list[HumanTask]:
        db.session.expire_all()
        return list(
            db.session.execute(
                db.select(HumanTask).where(HumanTask.ticket_id == ticket.id).order_by(HumanTask.created_at)
            ).scalars()
        )

    def complete(self, ticket: Ticket, name: str, data: dict) -> None:
        [task] = [t for t in self.tasks(ticket) if t.name == name]
        complete_task(task.id, data, self.agent)
        drain()

    def closed_complaint(self, response: str = "We are sorry, we look into it.") -> Ticket:
        """A complaint resolved as 'satisfactory' (an internal outcome), with internal notes on the way."""
        ticket = self.open()
        self.complete(ticket, "initial_response", {"response": response})
        self.complete(ticket, "review_complaint", {"findings": "Courier confirmed it"})
        self.complete(
            ticket,
            "resolve_complaint",
            {"resolution_summary": "A voucher is on its way.", "outcome": "satisfactory"},
        )
        db.session.expire_all()
        return db.session.get(Ticket, ticket.id)


@pytest.fixture
def desk(app):
    deploy_shipped()
    agent = make_user(
        "alice", "agent", teams=("returns", "credit", "support", "customer-success"), password="pw"
    )
    lead = make_user("lena", "agent", teams=("support", "customer-success"), lead=True, password="pw")
    user, customer = make_customer_user("jane", name="Jane Doe")
    return Desk(agent=agent, lead=lead, user=user, customer=customer)
