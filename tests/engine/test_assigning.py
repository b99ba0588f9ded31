"""Automatic assignment in the engine (app/engine/assigning.py): lanes name teams, the analysts'
DMN rules may move a task or ask for a skill, and every choice is written to the history. The
strategies themselves are in tests/assignment/."""

import pytest

from app.engine import complete_task, deploy
from app.worker import drain
from tests.assignment.shared import (
    GENERAL,
    PROCESSES,
    assignee_of,
    assignment_history,
    deploy_rules,
    open_ticket,
    task_of,
)
from tests.diagrams import user_task_process
from tests.factories import deploy_shipped, make_customer, make_team, make_user


@pytest.fixture
def customer(app):
    return make_customer(tier="standard")


def test_rule_skill_narrows_a_least_loaded_team_to_the_skilled_agent(customer):
    deploy_rules()
    deploy_shipped("credit")
    make_team("credit", "least_loaded")
    make_user("carol", teams=("credit",), skills="credit")
    make_user("rita", teams=("credit",), skills="credit,risk")
    ticket = open_ticket(customer, "credit", {"requested_amount": 25000, "purpose": "Stock for winter"})
    task = task_of(ticket)
    assert (task.team, task.required_skill, assignee_of(ticket)) == ("credit", "risk", "rita")


def test_payment_question_waits_in_the_support_queue_when_nobody_has_billing_skills(customer):
    deploy_rules()
    deploy_shipped("general")
    make_team("support", "round_robin")
    make_user("dave", teams=("support",), skills="general")
    ticket = open_ticket(customer, "general", {"question": "Why was I charged twice?", "category": "payment"})
    task = task_of(ticket)
    assert (task.team, task.required_skill, task.assignee_id) == ("support", "billing", None)


# -- teams from lanes and rules ------------------------------------------------------------------


def test_task_outside_any_lane_stays_unassigned_and_unrecorded(customer):
    deploy(user_task_process())
    make_user("dave", teams=("support",))
    ticket = open_ticket(customer, "tiny", {})
    task = task_of(ticket)
    assert (task.team, task.assignee_id) == (None, None)
    assert assignment_history(ticket) == []


def test_platinum_complaint_goes_straight_to_customer_success(app):
    deploy_rules()
    deploy_shipped("complaint")
    make_team("customer-success", "skills")
    make_user("dave", teams=("support",), skills="complaints")
    make_user("erin", teams=("customer-success",), skills="complaints,retention")
    platinum = make_customer(name="Kofi Mensah", tier="platinum")
    ticket = open_ticket(platinum, "complaint", {"description": "Rude courier", "severity": "medium"})
    task = task_of(ticket)
    assert (task.name, task.team, assignee_of(ticket)) == ("initial_response", "customer-success", "erin")


def test_complaint_of_a_standard_customer_stays_in_its_lane(customer):
    deploy_rules()
    deploy_shipped("complaint")
    make_user("dave", teams=("support",), skills="complaints")
    ticket = open_ticket(customer, "complaint", {"description": "Late parcel", "severity": "medium"})
    assert (task_of(ticket).team, assignee_of(ticket)) == ("support", "dave")


def test_history_records_the_assignment_with_the_rules_that_made_it(app):
    deploy_rules()
    deploy_shipped("complaint")
    make_team("customer-success", "least_loaded")
    make_user("erin", teams=("customer-success",))
    platinum = make_customer(name="Kofi Mensah", tier="platinum")
    ticket = open_ticket(platinum, "complaint", {"description": "Rude courier", "severity": "low"})
    [event] = assignment_history(ticket)
    assert event["team"] == "customer-success" and event["lane"] == "support" and event["assignee"] == "erin"
    assert event["rule"] == "assignment#1 → team customer-success; least_loaded → erin (0/20 open)"


def test_history_says_when_no_assignment_rule_matched(customer):
    deploy_rules()
    deploy_shipped("general")
    make_user("dave", teams=("support",))
    [event] = assignment_history(open_ticket(customer, "general", GENERAL))
    assert event["rule"] == "no assignment rule matched; round_robin → dave"


def test_rule_naming_an_unknown_team_keeps_the_lane(customer):
    source = (PROCESSES / "assignment.dmn").read_text()
    deploy(source.replace('"customer-success"', '"no-such-team"').encode())
    deploy_shipped("complaint")
    make_user("dave", teams=("support",))
    platinum = make_customer(name="Kofi Mensah", tier="platinum")
    ticket = open_ticket(platinum, "complaint", {"description": "Rude courier", "severity": "low"})
    assert (task_of(ticket).team, assignee_of(ticket)) == ("support", "dave")
    assert "team no-such-team does not exist, kept support" in assignment_history(ticket)[0]["rule"]


def test_each_new_task_of_a_ticket_is_assigned_in_its_own_lane(customer):
    deploy_shipped("complaint")
    dave = make_user("dave", teams=("support",))
    make_user("erin", teams=("customer-success",))
    ticket = open_ticket(customer, "complaint", {"description": "Rude courier", "severity": "high"})
    complete_task(task_of(ticket).id, {"response": "We are sorry."}, dave)
    drain()
    task = task_of(ticket)
    assert (task.name, task.team, assignee_of(ticket)) == ("review_complaint", "customer-success", "erin")
    assert [e["assignee"] for e in assignment_history(ticket)] == ["dave", "erin"]


def test_a_rule_redeployed_between_two_tasks_assigns_the_second(customer):
    """A completion reads the latest decisions with its task (one statement): the version
    deployed after the ticket opened decides its next task."""
    deploy_rules()
    deploy_shipped("complaint")
    dave = make_user("dave", teams=("support",))
    make_team("escalations", "round_robin")
    make_user("gus", teams=("escalations",))
    ticket = open_ticket(customer, "complaint", {"description": "Rude courier", "severity": "high"})
    assert (task_of(ticket).team, assignee_of(ticket)) == ("support", "dave")  # rule 1 is for platinum
    source = (PROCESSES / "assignment.dmn").read_text()
    changed, created = deploy(
        source.replace('assignment_rule_1_tier"><text>"platinum"', 'assignment_rule_1_tier"><text>-')
        .replace(
            'assignment_rule_1_team"><text>"customer-success"', 'assignment_rule_1_team"><text>"escalations"'
        )
        .encode()
    )
    assert (created, changed.version) == (True, 2)
    complete_task(task_of(ticket).id, {"response": "We are sorry."}, dave)
    drain()
    task = task_of(ticket)
    assert (task.name, task.team, assignee_of(ticket)) == ("review_complaint", "escalations", "gus")
    assert assignment_history(ticket)[-1]["rule"].startswith("assignment#1 → team escalations")
