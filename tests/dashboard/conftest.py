"""Dashboard fixtures: a refund ticket in an incident, and a desk of people driving tickets for the figures."""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from app.engine import complete_task, deploy, record_feedback, start_process
from app.extensions import db
from app.models import Customer, FeedbackRequest, HumanTask, Incident, TeamMember, Ticket, User
from app.sla import set_policy
from app.worker import drain
from tests.dashboard.diagrams import REFUND_XML
from tests.factories import csrf_of, deploy_shipped, login, make_customer, make_customer_user, make_user

GENERAL_START = {"question": "Do you ship to Norway?", "category": "delivery"}
COMPLAINT_START = {"description": "The courier was rude.", "severity": "high"}
ANSWER = {"answer": "Yes, in 3 days.", "information_given": True}
NOT_YET = {"answer": "Checking", "information_given": False}


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


@dataclass
class Desk:
    agent: object
    other: object
    manager: object
    lead: object
    customer: object

    def open(self, ticket_type: str = "general", data: dict | None = None) -> Ticket:
        start = data or (GENERAL_START if ticket_type == "general" else COMPLAINT_START)
        ticket, _ = start_process(ticket_type, self.customer.id, "Help please", start, actor="jane")
        drain()
        return db.session.get(Ticket, ticket.id)

    def task(self, ticket: Ticket, name: str | None = None) -> HumanTask:
        db.session.expire_all()
        query = db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)
        if name:
            query = query.where(HumanTask.name == name)
        return db.session.execute(query).scalars().one()

    def complete(self, ticket: Ticket, data: dict, name: str | None = None, by=None) -> None:
        """Complete the ticket's open task as `by` (default: whoever it is assigned to)."""
        task = self.task(ticket, name)
        holder = db.session.get(User, task.assignee_id) if task.assignee_id else self.agent
        complete_task(task.id, data, by or holder)
        drain()

    def rate(self, ticket: Ticket, rating: int, comment: str = "") -> None:
        """Answer the survey request the process sent (after its feedback delay)."""
        request = db.session.execute(
            db.select(FeedbackRequest).where(FeedbackRequest.ticket_id == ticket.id)
        ).scalar_one()
        record_feedback(request.id, rating, comment)
        drain()


@pytest.fixture
def desk(app):
    return make_desk()


def make_desk() -> Desk:
    """The shipped types deployed; alice and bob (capacity 4) agents everywhere, lena leads support,
    max a manager (sees everything), all with password 'pw'."""
    deploy_shipped()
    teams = ("returns", "credit", "support", "customer-success")
    agent = make_user("alice", "agent", teams=teams, password="pw")
    other = make_user("bob", "agent", teams=teams, password="pw", capacity=4)
    lead = make_user("lena", "agent", teams=("support",), lead=True, password="pw")
    manager = make_user("max", "manager", password="pw")
    # General and complaint tickets belong to support: 4 business hours to respond, 2 days to resolve.
    for ticket_type in ("general", "complaint"):
        for priority in ("low", "normal", "high", "urgent"):
            set_policy(ticket_type, priority, 4 * 60, 16 * 60, team_key="support")
    db.session.commit()
    return Desk(agent=agent, other=other, manager=manager, lead=lead, customer=make_customer())


@pytest.fixture
def week(desk, clock):
    """Three tickets: one answered at once, one after two touches a day later, one complaint left open."""
    quick = desk.open()
    slow = desk.open()
    desk.open("complaint")
    clock.shift(timedelta(hours=1))
    desk.complete(quick, ANSWER)  # 10:00: the first response and the resolution, one touch
    clock.shift(timedelta(hours=1))
    desk.complete(slow, NOT_YET)  # 11:00: the first response, not the answer
    clock.shift(timedelta(hours=22))
    desk.complete(slow, ANSWER)  # Tuesday 09:00: resolved after 8 business hours and two touches
    clock.shift(timedelta(days=1, hours=1))  # the surveys go out a day after closing
    drain()
    desk.rate(quick, 5, "Quick and friendly.")
    desk.rate(slow, 2, "It took a day.")
    return quick, slow
