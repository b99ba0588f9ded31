"""Rules analysts edit: the DMN priority decision at ticket creation, deploy checks, redeploys."""

from pathlib import Path

import pytest

from app.engine import DiagramRejected, StepFailed, deploy, start_process
from app.engine.rules.dmn import decide
from app.extensions import db
from app.models import HistoryEvent, ProcessDefinition, Ticket
from tests.factories import deploy_shipped, make_customer

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
PRIORITY_DMN = (PROCESSES / "priority.dmn").read_text()
RETURN = {
    "order_number": "SO-1001",
    "items": [{"sku": "SHOE-42", "qty": 1}],
    "reason": "damaged",
    "preferred_resolution": "refund",
}


@pytest.fixture
def shipped(app):
    deploy(PRIORITY_DMN.encode(), actor="test")
    deploy_shipped("complaint", "return", "general")


def open_ticket(ticket_type: str, data: dict, tier: str = "standard") -> Ticket:
    customer = make_customer(tier=tier)
    ticket, _ = start_process(ticket_type, customer.id, "Help please", data, actor="test")
    return db.session.get(Ticket, ticket.id)


def complaint(severity: str, tier: str = "standard") -> Ticket:
    return open_ticket("complaint", {"description": "Rude courier", "severity": severity}, tier)


def priority_history(ticket: Ticket) -> dict:
    (event,) = db.session.execute(
        db.select(HistoryEvent).where(
            HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "priority_set"
        )
    ).scalars()
    return event.data


def rejection(source: str) -> list[tuple]:
    with pytest.raises(DiagramRejected) as caught:
        deploy(source.encode())
    return [(p.element_id, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("severity", "tier", "expected"),
    [
        ("critical", "standard", "urgent"),
        ("critical", "platinum", "urgent"),
        ("high", "standard", "high"),
        ("medium", "standard", "normal"),
        ("medium", "gold", "high"),
        ("medium", "platinum", "high"),
        ("low", "standard", "low"),
        ("low", "gold", "low"),
        ("low", "platinum", "high"),
    ],
)
def test_complaint_priority_follows_severity_and_tier(shipped, severity, tier, expected):
    assert complaint(severity, tier).priority == expected


@pytest.mark.parametrize(
    ("amount", "tier", "expected"),
    [
        (89.9, "standard", "normal"),
        (500, "gold", "normal"),
        (500.01, "standard", "high"),
        (20, "platinum", "high"),
    ],
)
def test_return_priority_follows_amount_and_tier(shipped, amount, tier, expected):
    assert open_ticket("return", {**RETURN, "amount": amount}, tier).priority == expected


def test_history_names_the_rule_that_set_the_priority(shipped):
    event = priority_history(complaint("critical"))
    assert event["message"] == "priority set to urgent by rule priority#1 (critical complaint)"
    assert (event["priority"], event["rule"]) == ("urgent", "rule priority#1 (critical complaint)")


def test_given_priority_wins_over_the_rules_and_says_who_gave_it(shipped):
    customer = make_customer()
    ticket, _ = start_process(
        "complaint",
        customer.id,
        "Help",
        {"description": "x", "severity": "low"},
        actor="max",
        priority="urgent",
    )
    assert priority_history(ticket)["message"] == "priority set to urgent by max when opening the ticket"


def test_without_a_priority_decision_the_default_rules_apply(app):
    deploy_shipped("complaint", "general")
    assert complaint("critical").priority == "urgent"
    gold = open_ticket("general", {"question": "Hi?", "category": "other"}, tier="gold")
    assert (gold.priority, priority_history(gold)["rule"]) == ("high", "default rules")


def test_redeployed_rule_is_used_by_the_next_ticket(shipped):
    before = complaint("critical")
    changed, created = deploy(PRIORITY_DMN.replace('<text>"urgent"</text>', '<text>"high"</text>').encode())
    after = complaint("critical")
    assert (created, changed.version) == (True, 2)
    assert (before.priority, after.priority) == ("urgent", "high")


def test_broken_cell_is_refused_at_deploy_naming_the_cell(app):
    problems = rejection(PRIORITY_DMN.replace('<text>"critical"</text>', "<text>&gt; &gt; 3</text>"))
    assert [element for element, _ in problems] == ["priority_rule_1_severity"]
    assert "syntax error" in problems[0][1]
    assert db.session.execute(db.select(ProcessDefinition)).first() is None


def test_unsafe_cell_is_refused_at_deploy_naming_the_cell(app):
    problems = rejection(PRIORITY_DMN.replace('<text>"high"</text>', "<text>().__class__</text>", 1))
    assert [element for element, _ in problems] == ["priority_rule_2_priority"]
    assert "__class__" in problems[0][1]


def test_priority_outside_the_known_values_is_refused_at_deploy(app):
    problems = rejection(PRIORITY_DMN.replace('<text>"urgent"</text>', '<text>"asap"</text>'))
    assert problems == [
        ("priority_rule_1_priority", "row 1 gives priority 'asap'; expected one of low, normal, high, urgent")
    ]


def test_priority_decision_without_a_priority_output_is_refused(app):
    problems = rejection(PRIORITY_DMN.replace('name="priority" typeRef', 'name="urgency" typeRef'))
    assert ("priority_table", "the 'priority' decision needs an output named 'priority'") in problems


def test_cell_failing_at_run_time_stops_the_ticket_naming_the_decision(app):
    deploy(PRIORITY_DMN.replace("<text>&gt; 500</text>", '<text>&gt; "500"</text>').encode())
    deploy_shipped("return")
    with pytest.raises(StepFailed) as caught:
        open_ticket("return", {**RETURN, "amount": 80})
    assert caught.value.element_id == "priority"
    assert "row 8 (cell priority_rule_8_amount)" in caught.value.message
    assert db.session.execute(db.select(Ticket)).first() is None


def test_unique_hit_policy_refuses_two_matching_rows(app):
    deploy(PRIORITY_DMN.replace('hitPolicy="FIRST"', 'hitPolicy="UNIQUE"').encode())
    with pytest.raises(StepFailed) as caught:
        decide(
            "priority",
            {
                "ticket_type": "complaint",
                "severity": "critical",
                "tier": "platinum",
                "amount": 0,
                "order_count": 0,
            },
        )
    assert "rows 1, 2, 7, 9 all match" in caught.value.message


def test_unique_hit_policy_returns_the_single_match(app):
    deploy(PRIORITY_DMN.replace('hitPolicy="FIRST"', 'hitPolicy="UNIQUE"').encode())
    inputs = {"ticket_type": "general", "severity": "", "tier": "standard", "amount": 0, "order_count": 0}
    assert decide("priority", inputs) == {"priority": "normal"}


def test_decide_returns_none_for_a_decision_that_is_not_deployed(app):
    assert decide("priority", {"ticket_type": "complaint"}) is None


def test_flask_processes_deploy_ships_both_rule_tables(runner):
    result = runner.invoke(args=["processes", "deploy"])
    assert result.exit_code == 0, result.output
    assert "priority v1 (deployed)" in result.output and "assignment v1 (deployed)" in result.output
    assert priority_history(complaint("high"))["rule"] == "rule priority#3 (high-severity complaint)"
