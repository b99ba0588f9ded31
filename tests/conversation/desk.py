"""The help desk the conversation and mail tests work at: open a complaint, complete its steps."""

from dataclasses import dataclass

from app.engine import complete_task, start_process
from app.extensions import db
from app.models import HumanTask, Ticket
from app.worker import drain

COMPLAINT_START = {"description": "The courier was rude", "severity": "high"}


@dataclass
class Desk:
    """A customer, an agent (and a team lead) at the help desk, and the steps of a complaint."""

    agent: object
    user: object
    customer: object
    lead: object = None

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
