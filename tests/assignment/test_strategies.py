"""Team strategies (app/assignment/strategies.py) through the engine: round robin, least loaded,
skills, capacity, the same agent for a ticket's later task, and concurrent choices."""

import threading
from datetime import datetime

import pytest
from sqlalchemy import text

from app.engine import claim_task, complete_task, deploy, instance_of_ticket, start_process, waiting_of
from app.extensions import db
from app.models import HumanTask, User
from app.worker import drain
from tests.assignment.shared import (
    GENERAL,
    REQUIRES_SQL,
    assignee_of,
    assignment_history,
    lane_process,
    open_ticket,
    task_of,
)
from tests.diagrams import bpmn, user_task_process
from tests.factories import deploy_shipped, make_customer, make_team, make_user


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


def _parallel_in_lane(lane: str) -> bytes:
    """start -> fork -> user tasks `left` and `right`, both in `lane` -> join -> end."""
    nodes = ("start", "fork", "left", "right", "join", "done")
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    return bpmn(
        f"""
  <bpmn:laneSet id="lanes"><bpmn:lane id="lane_1" name="{lane}">{refs}</bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:parallelGateway id="fork"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:userTask id="left" name="Left"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="right" name="Right"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
  <bpmn:parallelGateway id="join"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:endEvent id="done"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
  <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="left"/>
  <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="right"/>
  <bpmn:sequenceFlow id="f4" sourceRef="left" targetRef="join"/>
  <bpmn:sequenceFlow id="f5" sourceRef="right" targetRef="join"/>
  <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="done"/>""",
        "forked",
    )


def test_two_tasks_a_new_ticket_opens_in_one_team_go_to_the_same_agent(customer):
    deploy(_parallel_in_lane("experts"))
    make_team("experts", "round_robin")
    for name in ("dave", "frank"):
        make_user(name, teams=("experts",))
    ticket = open_ticket(customer, "forked", {})
    rules = [step["rule"] for step in assignment_history(ticket)]
    tasks = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalars().all()
    assert {db.session.get(User, t.assignee_id).username for t in tasks} == {"dave"}
    assert (len(tasks), rules[0], rules[1]) == (
        2,
        "no assignment rule matched; round_robin → dave",
        "no assignment rule matched; same agent as before on this ticket → dave",
    )


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


def test_round_robin_does_not_weigh_capacity(customer):
    deploy_shipped("general")
    make_team("support", "round_robin")
    make_user("dave", teams=("support",), capacity=1)
    make_user("frank", teams=("support",), capacity=1)
    tickets = [open_ticket(customer, "general", GENERAL) for _ in range(3)]
    assert [assignee_of(t) for t in tickets] == ["dave", "frank", "dave"]  # only least_loaded and skills do


def test_an_unknown_strategy_deals_round_robin(customer):
    deploy_shipped("general")
    make_team("support", "lottery")
    make_user("dave", teams=("support",))
    make_user("frank", teams=("support",))
    tickets = [open_ticket(customer, "general", GENERAL) for _ in range(3)]
    assert [assignee_of(t) for t in tickets] == ["dave", "frank", "dave"]
    assert assignment_history(tickets[0])[0]["rule"].endswith("round_robin → dave")


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded", "skills"])
def test_customers_in_a_team_are_never_dealt_a_task(customer, strategy):
    deploy(lane_process())
    make_team("experts", strategy)
    make_user("cora", "customer", teams=("experts",))
    make_user("dave", teams=("experts",))
    tickets = [open_ticket(customer, "laned", {}) for _ in range(2)]
    assert [assignee_of(t) for t in tickets] == ["dave", "dave"]


def test_a_team_without_active_members_keeps_the_task_in_its_queue(customer):
    deploy(lane_process())
    make_team("experts", "round_robin")
    dave = make_user("dave", teams=("experts",))
    dave.active = False
    db.session.commit()
    ticket = open_ticket(customer, "laned", {})
    assert (task_of(ticket).team, assignee_of(ticket)) == ("experts", None)
    assert assignment_history(ticket)[0]["rule"].endswith("round_robin: team experts has no active members")


def test_a_lane_naming_no_team_deals_to_the_default_team(app, customer):
    assert app.config["DEFAULT_TEAM"] == "support"
    deploy(lane_process(lane="nobody"))
    make_user("dave", teams=("support",))
    ticket = open_ticket(customer, "laned", {})
    assert (task_of(ticket).team, assignee_of(ticket)) == ("support", "dave")


def test_the_same_agent_is_skipped_at_capacity_and_the_strategy_decides(customer):
    deploy_shipped("general")
    deploy(user_task_process())
    make_team("support", "least_loaded")
    dave = make_user("dave", teams=("support",), capacity=1)
    make_user("frank", teams=("support",), capacity=10)
    ticket = open_ticket(customer, "general", GENERAL)
    assert assignee_of(ticket) == "dave"  # 0/1 ties 0/10: the lower id
    other = open_ticket(customer, "tiny", {})
    claim_task(task_of(other).id, dave)  # dave now holds two tasks, over his capacity of one
    complete_task(task_of(ticket).id, {"information_given": False}, dave)
    drain()
    assert assignee_of(ticket) == "frank"
    assert "same agent" not in assignment_history(ticket)[-1]["rule"]


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
    open_ticket(
        customer,
        "return",
        {
            "order_number": "SO-1",
            "items": [{"sku": "A", "qty": 1}],
            "reason": "damaged",
            "amount": 10,
            "preferred_resolution": "refund",
        },
    )
    assert assignee_of(open_ticket(customer, "general", GENERAL)) == "frank"


def test_least_loaded_skips_a_member_with_no_capacity(customer):
    deploy(lane_process())
    make_team("experts", "least_loaded")
    make_user("dave", teams=("experts",), capacity=0)
    make_user("frank", teams=("experts",), capacity=3)
    tickets = [open_ticket(customer, "laned", {}) for _ in range(4)]
    assert [assignee_of(t) for t in tickets] == ["frank", "frank", "frank", None]


def test_least_loaded_deals_again_when_a_task_is_completed(customer):
    deploy(lane_process())
    make_team("experts", "least_loaded")
    dave = make_user("dave", teams=("experts",), capacity=1)
    first = open_ticket(customer, "laned", {})
    waiting = open_ticket(customer, "laned", {})
    assert [assignee_of(first), assignee_of(waiting)] == ["dave", None]
    complete_task(task_of(first).id, {}, dave)
    assert (
        assignee_of(open_ticket(customer, "laned", {})) == "dave"
    )  # free again (the queued task stays queued)
    assert assignee_of(waiting) is None


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


def test_skills_strategy_leaves_the_task_in_the_queue_when_every_skilled_agent_is_at_capacity(customer):
    deploy(lane_process(REQUIRES_SQL))
    make_team("experts", "skills")
    make_user("sam", teams=("experts",), skills="sql", capacity=1)
    make_user("sue", teams=("experts",), skills="sql", capacity=1)
    make_user("dave", teams=("experts",), skills="general", capacity=10)
    tickets = [open_ticket(customer, "laned", {}) for _ in range(3)]
    assert [assignee_of(t) for t in tickets] == ["sam", "sue", None]
    assert "everyone in experts is at capacity" in assignment_history(tickets[2])[0]["rule"]


def test_a_required_skill_narrows_round_robin_too(customer):
    deploy(lane_process(REQUIRES_SQL))
    make_team("experts", "round_robin")
    make_user("dave", teams=("experts",), skills="general")
    make_user("sam", teams=("experts",), skills="SQL ")
    make_user("sue", teams=("experts",), skills="python,sql")
    tickets = [open_ticket(customer, "laned", {}) for _ in range(3)]
    assert [assignee_of(t) for t in tickets] == ["sam", "sue", "sam"]


# -- concurrency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("opened_before", [0, 1], ids=["first tasks of the team", "team with a cursor"])
@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_tickets_opened_at_the_same_moment_are_dealt_to_different_members(
    app, customer, strategy, opened_before
):
    """Concurrent choices in one team take turns on its cursor: when the team has none yet
    (it is created), and when the roster's own read locks it."""
    deploy(lane_process())
    make_team("experts", strategy)
    for name in ("dave", "frank", "gina", "hank"):
        make_user(name, teams=("experts",))
    for _ in range(opened_before):
        start_process("laned", customer.id, "Before", {})  # to dave
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
    assignees = (
        db.session.execute(db.select(User.username).join(HumanTask, HumanTask.assignee_id == User.id))
        .scalars()
        .all()
    )
    assert (errors, sorted(assignees)) == (
        [],
        sorted(["dave"] * opened_before + ["dave", "frank", "gina", "hank"]),
    )


# -- leads only (assignToLead) -------------------------------------------------------------------


def _escalated(customer, clock):
    """A complaint whose first response is overdue: its lead task (assignToLead) opened."""
    deploy_shipped("complaint")
    ticket = open_ticket(customer, "complaint", {"description": "Rude courier", "severity": "high"})
    [timer] = waiting_of(instance_of_ticket(ticket.id).id)["timers"]
    clock.move_to(datetime.fromisoformat(timer["due_at"]))
    drain()
    assert task_of(ticket).name == "lead_initial_response"
    return ticket


def test_an_escalation_goes_to_a_lead_of_the_team_by_its_strategy(customer, clock):
    make_team("support", "least_loaded")
    make_user("dave", teams=("support",))
    make_user("lena", teams=("support",), lead=True)
    make_user("lars", teams=("support",), lead=True, capacity=1)
    ticket = _escalated(customer, clock)
    assert assignee_of(ticket) == "lena"  # dave is no lead; lena and lars hold nothing: the lower id


def test_an_escalation_stays_in_the_queue_when_the_team_has_no_active_lead(customer, clock):
    make_team("support", "round_robin")
    make_user("dave", teams=("support",))
    lena = make_user("lena", teams=("support",), lead=True)
    lena.active = False
    db.session.commit()
    ticket = _escalated(customer, clock)
    assert (task_of(ticket).team, assignee_of(ticket)) == ("support", None)
    assert assignment_history(ticket)[-1]["rule"].endswith(
        "team support has no active lead; left in the team queue"
    )


# -- the roster's plan -------------------------------------------------------------------------


def test_postgresql_plans_the_roster_of_new_tickets_once(customer):
    """The roster's read for a new ticket (no earlier agent to count) is one prepared statement
    that PostgreSQL plans once and then reuses, instead of planning it again at every start."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    deploy_shipped("general")
    make_team("support", "round_robin")
    make_user("dave", teams=("support",))
    for _ in range(12):  # psycopg prepares a statement at its fifth run; PostgreSQL then compares plans
        open_ticket(customer, "general", GENERAL)
    [(generic, custom)] = db.session.execute(
        text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'SELECT team.id%FOR UPDATE OF assignment_cursor'"
        )
    ).all()
    assert generic > 0 and custom <= 5
