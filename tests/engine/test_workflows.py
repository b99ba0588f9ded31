"""Every path of every shipped workflow, through engine commands and the worker (saved and
loaded between every step, as a server does). A closed ticket's instance runs on: it waits a
day to ask for feedback (the deadlines themselves are in test_deadlines.py)."""

from datetime import timedelta
from decimal import Decimal

from app.extensions import db
from app.models import HumanTask, LedgerEntry, OutboxMessage, ProcessInstance, StockMovement
from app.worker import drain
from tests.engine.conftest import RETURN_START
from tests.factories import set_limits


def _instance(ticket):
    return db.session.execute(
        db.select(ProcessInstance).where(ProcessInstance.ticket_id == ticket.id)
    ).scalar_one()


def _ledger(ticket):
    return (
        db.session.execute(db.select(LedgerEntry).where(LedgerEntry.ticket_id == ticket.id)).scalars().all()
    )


def _mails(ticket):
    return (
        db.session.execute(
            db.select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id).order_by(OutboxMessage.id)
        )
        .scalars()
        .all()
    )


def test_return_accepted_with_refund_restocks_and_pays_once(world):
    ticket = world.open("return", RETURN_START)
    assert ticket.status == "new"
    task = world.task(ticket)
    assert (task.name, task.team, task.form_name) == ("review_request", "returns", "return_review.json")
    world.complete(ticket, "review_request", {"decision": "accept", "resolution": "refund"})
    assert world.reload(ticket).status == "awaiting_return"
    world.complete(
        ticket, "receive_item", {"item_received": True, "condition": "as_new", "refund_amount": 89.9}
    )
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "refunded")
    [entry] = _ledger(ticket)
    assert (entry.kind, entry.amount) == ("refund", Decimal("89.90"))
    stock = db.session.execute(
        db.select(StockMovement.sku, StockMovement.quantity).where(StockMovement.ticket_id == ticket.id)
    ).all()
    assert sorted(stock) == [("SHOE-42", 1), ("SOCK-1", 2)]
    assert _instance(ticket).status == "running"
    assert world.timers(ticket) == ["wait_feedback_delay"]  # the feedback loop follows
    assert len(_mails(ticket)) == 2  # return instructions, refund confirmation


def test_return_accepted_with_credit_note(world):
    ticket = world.open("return", {**RETURN_START, "preferred_resolution": "credit_note"})
    world.complete(ticket, "review_request", {"decision": "accept", "resolution": "credit_note"})
    world.complete(
        ticket, "receive_item", {"item_received": True, "condition": "used", "refund_amount": 89.9}
    )
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "credit_note")
    assert [e.kind for e in _ledger(ticket)] == ["credit_note"]


def test_return_rejected_tells_the_customer_why(world):
    ticket = world.open("return", RETURN_START)
    world.complete(ticket, "review_request", {"decision": "reject", "rejection_reason": "Worn shoes"})
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "rejected")
    assert "Worn shoes" in _mails(ticket)[-1].body
    assert _ledger(ticket) == []
    assert world.timers(ticket) == ["wait_feedback_delay"]  # rejected tickets are asked for feedback too


def test_return_more_info_waits_for_the_customer_then_reviews_again(world):
    ticket = world.open("return", RETURN_START)
    world.complete(ticket, "review_request", {"decision": "more_info", "question": "Photo of the damage?"})
    assert world.reload(ticket).status == "awaiting_customer"
    assert db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).first() is None
    assert world.waiting(ticket)["messages"] == [
        {"name": "customer_reply", "element_id": "wait_customer_reply"}
    ]
    assert world.timers(ticket) == ["reminder_due"]
    world.reply(ticket, "Here is the photo")
    assert world.reload(ticket).status == "in_progress"
    world.complete(ticket, "review_request", {"decision": "accept", "resolution": "refund"})
    world.complete(
        ticket, "receive_item", {"item_received": True, "condition": "damaged", "refund_amount": 89.9}
    )
    assert world.reload(ticket).resolution == "refunded"


def test_return_loop_many_rounds_keeps_instance_small(world):
    ticket = world.open("return", RETURN_START)
    sizes = []
    for round_ in range(30):
        world.complete(ticket, "review_request", {"decision": "more_info", "question": f"Q{round_}?"})
        world.reply(ticket, f"A{round_}")
        sizes.append(len(_instance(ticket).workflow))
    assert sizes[-1] < sizes[0] * 1.5, sizes  # compaction: no growth with age
    world.complete(ticket, "review_request", {"decision": "reject", "rejection_reason": "No"})
    assert world.reload(ticket).status == "closed"


def test_credit_approved_assigns_the_balance(world):
    set_limits({"agent": 2000})
    ticket = world.open("credit", {"requested_amount": 2000, "purpose": "Stock for my shop"})
    world.complete(ticket, "review_credit_data", {"data_complete": True})
    task = world.task(ticket)
    assert task.name == "decide_credit"
    world.complete(ticket, "decide_credit", {"decision": "approve", "approved_amount": 1500})
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "approved")
    [entry] = _ledger(ticket)
    assert (entry.kind, entry.amount) == ("credit_balance", Decimal("1500.00"))


def test_credit_missing_data_waits_then_denied(world):
    ticket = world.open("credit", {"requested_amount": 500, "purpose": "Holidays"})
    world.complete(ticket, "review_credit_data", {"data_complete": False, "missing_fields": "Tax id"})
    assert world.reload(ticket).status == "missing_data"
    world.reply(ticket, "Tax id is 123")
    world.complete(ticket, "review_credit_data", {"data_complete": True})
    world.complete(ticket, "decide_credit", {"decision": "deny", "notes": "Too risky"})
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "denied")
    assert _ledger(ticket) == []


def test_general_question_answered_after_a_second_pass(world):
    ticket = world.open("general", {"question": "Where is my parcel?", "category": "delivery"})
    assert world.reload(ticket).status == "in_progress"
    world.complete(ticket, "answer_question", {"information_given": False})
    world.complete(ticket, "answer_question", {"information_given": True, "answer": "It ships today."})
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "answered")
    assert _mails(ticket)[-1].body.count("It ships today.") == 1


def test_complaint_escalates_to_customer_success_and_records_the_outcome(world):
    ticket = world.open("complaint", {"description": "Rude courier", "severity": "critical"})
    assert ticket.priority == "urgent"
    assert world.task(ticket).team == "support"
    world.complete(ticket, "initial_response", {"response": "We are sorry, we look into it."})
    task = world.task(ticket)
    assert (task.name, task.team) == ("review_complaint", "customer-success")
    world.complete(ticket, "review_complaint", {"findings": "Courier confirmed"})
    world.complete(
        ticket, "resolve_complaint", {"resolution_summary": "Voucher sent", "outcome": "unsatisfactory"}
    )
    ticket = world.reload(ticket)
    assert (ticket.status, ticket.resolution) == ("closed", "unsatisfactory")
    assert world.timers(ticket) == ["wait_feedback_delay"]


def test_complaint_waits_for_the_first_response_until_its_target(world):
    ticket = world.open("complaint", {"description": "Rude courier", "severity": "high"})
    [timer] = world.waiting(ticket)["timers"]
    assert timer["element_id"] == "first_response_overdue"
    assert timer["due_at"] == world.reload(ticket).first_response_due_at.isoformat()
    assert world.task(ticket).due_at.isoformat() == timer["due_at"]  # the inbox shows the target


def test_general_question_answered_ends_after_the_survey_is_answered(world, clock):
    ticket = world.open("general", {"question": "Where is my parcel?", "category": "delivery"})
    world.complete(ticket, "answer_question", {"information_given": True, "answer": "It ships today."})
    clock.shift(timedelta(days=1, minutes=1))
    drain()
    world.rate(ticket, 5, "Thanks!")
    assert _instance(ticket).status == "completed"


def test_instructions_are_rendered_with_the_ticket_data(world):
    ticket = world.open("return", RETURN_START, subject="Shoes broken")
    task = world.task(ticket)
    assert "{{" not in task.instructions
    assert (
        "SO-1001" in task.instructions or "Shoes broken" in task.instructions or "Jane" in task.instructions
    )
