"""Engine-level fixtures: people, the four shipped workflows, and step helpers (each step ends with
SpiffWorkflow's save-restore check on the stored instance, tests/restore.py)."""

from dataclasses import dataclass

import pytest

from app.engine import complete_task, deliver_message, instance_of_ticket, start_process, waiting_of
from app.extensions import db
from app.models import HumanTask, Ticket
from app.worker import drain
from tests.factories import deploy_shipped, make_customer, make_user
from tests.restore import assert_restores_unchanged


@dataclass
class World:
    agent: object
    customer: object

    def open(self, ticket_type: str, data: dict, subject: str = "Help please") -> Ticket:
        ticket, instance = start_process(ticket_type, self.customer.id, subject, data, actor="test")
        drain()
        assert_restores_unchanged(instance.id)
        return db.session.get(Ticket, ticket.id)

    def task(self, ticket: Ticket) -> HumanTask:
        rows = (
            db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalars().all()
        )
        assert len(rows) == 1, f"expected one open task, found {[r.name for r in rows]}"
        return rows[0]

    def complete(self, ticket: Ticket, expected_name: str, data: dict, by=None) -> None:
        task = self.task(ticket)
        assert task.name == expected_name
        complete_task(task.id, data, by or self.agent)
        drain()
        self.restores(ticket)

    def reply(self, ticket: Ticket, message: str) -> None:
        deliver_message(ticket.id, "customer_reply", {"message": message}, actor="customer")
        drain()
        self.restores(ticket)

    def rate(self, ticket: Ticket, rating: int, comment: str = "") -> None:
        """Deliver the customer's survey answer, as the survey page does."""
        deliver_message(
            ticket.id, "feedback_received", {"rating": rating, "comment": comment}, actor="customer"
        )
        drain()
        self.restores(ticket)

    def restores(self, ticket: Ticket) -> None:
        """The stored instance restores and serializes again unchanged."""
        assert_restores_unchanged(instance_of_ticket(ticket.id).id)

    def waiting(self, ticket: Ticket) -> dict:
        """What the ticket's instance waits for: {"messages": [...], "timers": [...]} (see waiting_of)."""
        return waiting_of(instance_of_ticket(ticket.id).id)

    def timers(self, ticket: Ticket) -> list[str]:
        return sorted(timer["element_id"] for timer in self.waiting(ticket)["timers"])

    def reload(self, ticket: Ticket) -> Ticket:
        db.session.expire_all()
        return db.session.get(Ticket, ticket.id)


@pytest.fixture
def world(app):
    deploy_shipped()
    agent = make_user("alice", "agent", teams=("returns", "credit", "support", "customer-success"))
    return World(agent=agent, customer=make_customer())


RETURN_START = {
    "order_number": "SO-1001",
    "items": [{"sku": "SHOE-42", "qty": 1}, {"sku": "SOCK-1", "qty": 2}],
    "reason": "damaged",
    "amount": 89.9,
    "preferred_resolution": "refund",
}
