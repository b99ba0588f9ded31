"""Approval limits and four eyes: a credit above the assessment's proposal or the deciding agent's
limit, and a refund above the order amount, wait for a team lead who is not the proposer; the
customer hears only the outcome."""

from decimal import Decimal

import pytest

from app.engine import claim_task, complete_task, reassign_task
from app.engine.errors import Conflict
from app.extensions import db
from app.models import HumanTask, LedgerEntry, OutboxMessage
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import make_user, set_limits

CREDIT = {"requested_amount": 5000, "purpose": "Stock for the season"}
# make_customer's default profile: score 99, low risk, proposed limit 4950.00


@pytest.fixture
def lead(world):
    set_limits({"agent": 1000, "lead": 10000})
    return make_user("carol", "agent", teams=("credit", "returns"), lead=True)


def _decide(world, ticket, amount, by=None):
    world.complete(ticket, "review_credit_data", {"data_complete": True})
    if by is not None:  # the decision goes to `by` first
        reassign_task(world.task(ticket).id, world.agent, by)
    world.complete(ticket, "decide_credit", {"decision": "approve", "approved_amount": amount}, by=by)


def _ledger(ticket):
    return (
        db.session.execute(db.select(LedgerEntry).where(LedgerEntry.ticket_id == ticket.id)).scalars().all()
    )


def _mails(ticket):
    return db.session.execute(
        db.select(OutboxMessage.subject, OutboxMessage.body).where(OutboxMessage.ticket_id == ticket.id)
    ).all()


def test_a_small_credit_within_the_limit_and_the_proposal_is_granted_at_once(world, lead):
    ticket = world.open("credit", CREDIT)
    _decide(world, ticket, 800)
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "approved")
    assert [(e.kind, e.amount, e.currency) for e in _ledger(ticket)] == [
        ("credit_balance", Decimal("800.00"), "EUR")
    ]
    assert any("800.00 EUR" in body for _, body in _mails(ticket))


def test_a_credit_above_the_agent_s_limit_goes_to_the_team_lead_who_sees_both_figures(world, lead):
    ticket = world.open("credit", CREDIT)
    _decide(world, ticket, 3000)  # below the proposal (4950), above alice's limit (1000)
    task = world.task(ticket)
    assert (task.name, task.team, task.assignee_id) == ("approve_credit", "credit", lead.id)
    assert task.excluded_user_id == world.agent.id
    for figure in ("3000.00 EUR", "5000.00 EUR", "4950.00 EUR", "1000.00 EUR", "Alice"):
        assert figure in task.instructions
    assert _ledger(ticket) == [] and not any("approved" in subject for subject, _ in _mails(ticket))
    world.complete(
        ticket, "approve_credit", {"approval_decision": "approve", "approved_amount": 3000}, by=lead
    )
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "approved")
    assert [e.amount for e in _ledger(ticket)] == [Decimal("3000.00")]


def test_a_credit_above_the_proposal_needs_a_second_approver_whatever_the_agent_s_limit(world, lead):
    set_limits(by_user={world.agent: 1_000_000})  # a user's own limit overrides the role's
    ticket = world.open("credit", CREDIT)
    _decide(world, ticket, 999_999)
    task = world.task(ticket)
    assert task.name == "approve_credit"
    assert "above the proposed limit 4950.00 EUR" in task.instructions
    world.complete(
        ticket, "approve_credit", {"approval_decision": "approve", "approved_amount": 4500}, by=lead
    )
    assert [e.amount for e in _ledger(world.reload(ticket))] == [Decimal("4500.00")]


def test_the_second_approver_can_lower_the_amount_but_never_raise_it(world, lead):
    ticket = world.open("credit", CREDIT)
    _decide(world, ticket, 3000)
    world.complete(
        ticket, "approve_credit", {"approval_decision": "approve", "approved_amount": 9000}, by=lead
    )
    assert [e.amount for e in _ledger(world.reload(ticket))] == [Decimal("3000.00")]


def test_the_lead_who_proposed_may_not_approve_and_the_task_goes_to_another_lead(world, lead):
    other = make_user("dora", "agent", teams=("credit",), lead=True)
    ticket = world.open("credit", CREDIT)
    _decide(world, ticket, 6000, by=lead)  # above the proposal: carol may not approve her own figure
    task = world.task(ticket)
    assert task.name == "approve_credit" and task.excluded_user_id == lead.id
    assert task.assignee_id == other.id
    with pytest.raises(Conflict, match="four eyes"):
        complete_task(task.id, {"approval_decision": "approve", "approved_amount": 6000}, lead)
    with pytest.raises(Conflict, match="four eyes"):
        claim_task(task.id, lead)
    with pytest.raises(Conflict, match="four eyes"):
        reassign_task(task.id, other, lead)


def test_the_proposer_may_not_approve_even_when_nobody_else_leads_the_team(world):
    set_limits({"agent": 1000, "lead": 10000})
    manager = make_user("max", "manager")
    ticket = world.open("credit", CREDIT)
    _decide(world, ticket, 3000)
    task = world.task(ticket)
    assert task.assignee_id is None  # alice is nobody's lead here: the team queue keeps it
    with pytest.raises(Conflict, match="four eyes"):
        complete_task(task.id, {"approval_decision": "approve", "approved_amount": 3000}, world.agent)
    world.complete(
        ticket, "approve_credit", {"approval_decision": "approve", "approved_amount": 3000}, by=manager
    )
    assert world.reload(ticket).resolution == "approved"


def test_a_rejected_credit_tells_the_customer_it_is_denied_and_pays_nothing(world, lead):
    ticket = world.open("credit", CREDIT)
    _decide(world, ticket, 3000)
    assert not any("credit request" in subject.lower() for subject, _ in _mails(ticket))
    world.complete(
        ticket,
        "approve_credit",
        {"approval_decision": "reject", "approved_amount": 3000, "approval_reason": "Open invoices."},
        by=lead,
    )
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "denied")
    assert _ledger(ticket) == []
    assert any("cannot grant the credit of 5000.00 EUR" in body for _, body in _mails(ticket))


def test_a_refund_above_the_order_amount_waits_for_a_lead_and_is_paid_once(world, lead):
    ticket = world.open("return", RETURN_START)  # the ticket records 89.90
    world.complete(ticket, "review_request", {"decision": "accept", "resolution": "refund"})
    world.complete(ticket, "receive_item", {"item_received": True, "condition": "used", "refund_amount": 150})
    task = world.task(ticket)
    assert (task.name, task.assignee_id, task.excluded_user_id) == ("approve_refund", lead.id, world.agent.id)
    assert "150.00 EUR" in task.instructions and "89.90 EUR" in task.instructions
    assert _ledger(ticket) == []
    world.complete(ticket, "approve_refund", {"approval_decision": "approve", "refund_amount": 120}, by=lead)
    drain()
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "refunded")
    assert [(e.kind, e.amount) for e in _ledger(ticket)] == [("refund", Decimal("120.00"))]


def test_a_refund_within_the_order_amount_is_paid_without_a_second_approver(world, lead):
    ticket = world.open("return", RETURN_START)
    world.complete(ticket, "review_request", {"decision": "accept", "resolution": "refund"})
    world.complete(ticket, "receive_item", {"item_received": True, "condition": "used", "refund_amount": 50})
    assert [(e.kind, e.amount) for e in _ledger(world.reload(ticket))] == [("refund", Decimal("50.00"))]


def test_a_declined_refund_tells_the_customer_why(world, lead):
    ticket = world.open("return", RETURN_START)
    world.complete(ticket, "review_request", {"decision": "accept", "resolution": "refund"})
    world.complete(ticket, "receive_item", {"item_received": True, "condition": "used", "refund_amount": 150})
    world.complete(
        ticket,
        "approve_refund",
        {"approval_decision": "reject", "refund_amount": 150, "approval_reason": "The order was 89.90."},
        by=lead,
    )
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "refund_declined")
    assert _ledger(ticket) == []
    assert any("The order was 89.90." in body for _, body in _mails(ticket))


def test_no_limit_configured_means_every_credit_needs_a_second_approver(world):
    ticket = world.open("credit", CREDIT)
    _decide(world, ticket, 10)
    assert world.task(ticket).name == "approve_credit"
    assert db.session.execute(db.select(HumanTask.excluded_user_id)).scalar() == world.agent.id


def test_an_order_s_currency_from_the_start_data_is_the_ticket_s_in_the_ledger_and_the_mail(world, lead):
    ticket = world.open("return", {**RETURN_START, "currency": "GBP"})
    world.complete(ticket, "review_request", {"decision": "accept", "resolution": "refund"})
    world.complete(ticket, "receive_item", {"item_received": True, "condition": "used", "refund_amount": 50})
    assert [(e.amount, e.currency) for e in _ledger(world.reload(ticket))] == [(Decimal("50.00"), "GBP")]
    assert any("refunded 50.00 GBP" in body for _, body in _mails(ticket))
