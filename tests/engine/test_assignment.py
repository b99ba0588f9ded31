"""Automatic assignment: lanes name teams, rules may move a task, the team's strategy picks the agent."""

import threading
from pathlib import Path

import pytest

from app.engine import complete_task, deploy, start_process
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Ticket, User
from app.worker import drain
from tests.diagrams import bpmn, user_task_process
from tests.factories import deploy_shipped, make_customer, make_team, make_user

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
GENERAL = {"question": "Where is my parcel?", "category": "delivery"}


def open_ticket(customer, ticket_type: str, data: dict) -> Ticket:
    ticket, _ = start_process(ticket_type, customer.id, "Help please", data, actor="test")
    drain()
    return db.session.get(Ticket, ticket.id)


def task_of(ticket: Ticket) -> HumanTask:
    db.session.expire_all()
    (task,) = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalars()
    return task


def assignee_of(ticket: Ticket) -> str | None:
    task = task_of(ticket)
    return db.session.get(User, task.assignee_id).username if task.assignee_id else None


def assignment_history(ticket: Ticket) -> list[dict]:
    return [event.data for event in db.session.execute(
        db.select(HistoryEvent).where(HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "task_assigned")
        .order_by(HistoryEvent.id)).scalars()]


def deploy_rules() -> None:
    deploy((PROCESSES / "assignment.dmn").read_bytes(), actor="test")


def lane_process(task_extensions: str = "", lane: str = "experts") -> bytes:
    """start -> user task `do_it` in lane `lane` -> end."""
    return bpmn(f"""
  <bpmn:laneSet id="lanes"><bpmn:lane id="lane_1" name="{lane}">
    <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>do_it</bpmn:flowNodeRef>
    <bpmn:flowNodeRef>done</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="do_it" name="Do it">
    <bpmn:extensionElements>{task_extensions}</bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="do_it"/>
  <bpmn:sequenceFlow id="f2" sourceRef="do_it" targetRef="done"/>""", "laned")


REQUIRES_SQL = ('<spiffworkflow:properties><spiffworkflow:property name="requiredSkill" value="sql"/>'
                "</spiffworkflow:properties>")


@pytest.fixture
def customer(app):
    return make_customer(tier="standard")


# -- round robin ---------------------------------------------------------------------------------

def test_round_robin_cycles_through_the_team_members(customer):
    deploy_shipped("general")
    make_team("support", "round_robin")
    for name in ("dave", "frank", "gina"):
        make_user(name, teams=("support",))
    tickets = [open_ticket(customer, "general", GENERAL) for _ in range(4)]
    assert [assignee_of(t) for t in tickets] == ["dave", "frank", "gina", "dave"]


def test_round_robin_keeps_its_place_when_tasks_are_completed(customer):
    deploy_shipped("general")
    make_team("support", "round_robin")
    dave = make_user("dave", teams=("support",))
    make_user("frank", teams=("support",))
    first = open_ticket(customer, "general", GENERAL)
    complete_task(task_of(first).id, {"information_given": True, "answer": "Today."}, dave)
    drain()
    second = open_ticket(customer, "general", GENERAL)
    open_tasks = db.session.execute(db.select(HumanTask.ticket_id)).scalars().all()
    assert (open_tasks, assignee_of(second)) == ([second.id], "frank")


def test_round_robin_skips_inactive_members(customer):
    deploy_shipped("general")
    make_team("support", "round_robin")
    make_user("dave", teams=("support",))
    frank = make_user("frank", teams=("support",))
    make_user("gina", teams=("support",))
    frank.active = False
    db.session.commit()
    tickets = [open_ticket(customer, "general", GENERAL) for _ in range(3)]
    assert [assignee_of(t) for t in tickets] == ["dave", "gina", "dave"]


def test_later_task_of_a_ticket_goes_back_to_the_agent_who_had_the_earlier_one(customer):
    deploy_shipped("general")
    make_team("support", "round_robin")
    dave = make_user("dave", teams=("support",))
    make_user("frank", teams=("support",))
    ticket = open_ticket(customer, "general", GENERAL)
    complete_task(task_of(ticket).id, {"information_given": False}, dave)
    drain()
    assert assignee_of(ticket) == "dave"
    assert assignment_history(ticket)[-1]["rule"].endswith("same agent as before on this ticket → dave")


def test_later_task_goes_to_the_strategy_when_the_earlier_agent_left(customer):
    deploy_shipped("general")
    make_team("support", "round_robin")
    dave = make_user("dave", teams=("support",))
    make_user("frank", teams=("support",))
    ticket = open_ticket(customer, "general", GENERAL)
    dave.active = False
    db.session.commit()
    complete_task(task_of(ticket).id, {"information_given": False}, dave)
    drain()
    assert assignee_of(ticket) == "frank"


# -- least loaded --------------------------------------------------------------------------------

def test_least_loaded_weighs_open_tasks_against_capacity(customer):
    deploy_shipped("general")
    make_team("support", "least_loaded")
    make_user("dave", teams=("support",), capacity=2)
    make_user("frank", teams=("support",), capacity=10)
    tickets = [open_ticket(customer, "general", GENERAL) for _ in range(4)]
    # dave 0/2 ties frank 0/10 (lower id wins); then frank stays below dave's 1/2 until 5/10.
    assert [assignee_of(t) for t in tickets] == ["dave", "frank", "frank", "frank"]


def test_least_loaded_leaves_the_task_in_the_queue_when_everyone_is_at_capacity(customer):
    deploy_shipped("general")
    make_team("support", "least_loaded")
    make_user("dave", teams=("support",), capacity=1)
    make_user("frank", teams=("support",), capacity=1)
    tickets = [open_ticket(customer, "general", GENERAL) for _ in range(3)]
    assert [assignee_of(t) for t in tickets] == ["dave", "frank", None]
    assert task_of(tickets[2]).team == "support"
    assert "at capacity" in assignment_history(tickets[2])[0]["rule"]


def test_least_loaded_counts_tasks_held_in_other_teams(customer):
    deploy_shipped("general", "return")
    make_team("support", "least_loaded")
    make_team("returns", "round_robin")
    make_user("dave", teams=("support", "returns"), capacity=5)
    make_user("frank", teams=("support",), capacity=5)
    open_ticket(customer, "return", {"order_number": "SO-1", "items": [{"sku": "A", "qty": 1}],
                                     "reason": "damaged", "amount": 10, "preferred_resolution": "refund"})
    assert assignee_of(open_ticket(customer, "general", GENERAL)) == "frank"


# -- skills --------------------------------------------------------------------------------------

def test_skills_strategy_picks_the_agent_with_the_required_skill(customer):
    deploy(lane_process(REQUIRES_SQL))
    make_team("experts", "skills")
    make_user("dave", teams=("experts",), skills="general")
    make_user("sam", teams=("experts",), skills="Python, SQL")
    ticket = open_ticket(customer, "laned", {})
    task = task_of(ticket)
    assert (task.required_skill, assignee_of(ticket)) == ("sql", "sam")


def test_skills_strategy_prefers_the_less_loaded_of_two_skilled_agents(customer):
    deploy(lane_process(REQUIRES_SQL))
    make_team("experts", "skills")
    make_user("sam", teams=("experts",), skills="sql")
    make_user("sue", teams=("experts",), skills="sql")
    tickets = [open_ticket(customer, "laned", {}) for _ in range(3)]
    assert [assignee_of(t) for t in tickets] == ["sam", "sue", "sam"]


def test_skills_strategy_leaves_the_task_in_the_team_queue_when_nobody_has_the_skill(customer):
    deploy(lane_process(REQUIRES_SQL))
    make_team("experts", "skills")
    make_user("dave", teams=("experts",), skills="general")
    ticket = open_ticket(customer, "laned", {})
    task = task_of(ticket)
    assert (task.team, task.assignee_id) == ("experts", None)
    assert "nobody in experts has skill 'sql'" in assignment_history(ticket)[0]["rule"]


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


# -- concurrency ---------------------------------------------------------------------------------

@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_tickets_opened_at_the_same_moment_are_dealt_to_different_members(app, customer, strategy):
    deploy(lane_process())
    make_team("experts", strategy)
    for name in ("dave", "frank", "gina", "hank"):
        make_user(name, teams=("experts",))
    customer_id = customer.id
    barrier = threading.Barrier(4)
    errors = []

    def open_one():
        with app.app_context():
            barrier.wait()
            try:
                start_process("laned", customer_id, "Same moment", {})
            except Exception as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    assignees = db.session.execute(db.select(User.username).join(HumanTask, HumanTask.assignee_id == User.id)
                                   ).scalars().all()
    assert (errors, sorted(assignees)) == ([], ["dave", "frank", "gina", "hank"])
