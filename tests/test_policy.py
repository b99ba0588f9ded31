"""The one policy on tasks and tickets (app/access.py) and the engine's command checker hook.

The engine asks `app.access.POLICY` before claim, release, complete, reassign and cancel, so a
refusal here is the same refusal for the API, the pages and anyone calling the engine; the task
page shows its buttons from the same answers (`task_actions`).
"""

from uuid import uuid4

import pytest

from app.access import (
    POLICY,
    Decision,
    TaskActions,
    may_cancel,
    may_claim,
    may_complete,
    may_reassign,
    may_release,
    task_actions,
)
from app.engine import (
    Conflict,
    Forbidden,
    cancel_instance,
    claim_task,
    deploy,
    register_checker,
    start_process,
)
from app.extensions import db
from app.models import HumanTask, ProcessDefinition, ProcessInstance, Ticket
from tests.diagrams import user_task_process
from tests.factories import make_customer, make_user


@pytest.fixture
def people(app):
    return {
        name: make_user(name, role, teams=teams, lead=lead)
        for name, role, teams, lead in (
            ("alice", "agent", ("returns",), False),
            ("bob", "agent", ("returns",), False),
            ("carol", "agent", ("credit",), False),
            ("lena", "agent", ("returns",), True),
            ("mike", "manager", ("returns",), False),
            ("root", "admin", (), False),
            ("ana", "analyst", (), False),
            ("jane", "customer", (), False),
        )
    }


@pytest.fixture
def task_of(app, people):
    """task_of(assignee=None, team="returns") -> an open task row on a ticket of its own (no engine)."""
    definition = ProcessDefinition(
        key="return", version=1, kind="bpmn", source=b"<x/>", checksum="c", forms={}
    )
    db.session.add(definition)
    db.session.flush()
    instance = ProcessInstance(definition_id=definition.id, workflow="{}")
    db.session.add(instance)
    customer = make_customer()

    def make(assignee=None, team="returns"):
        ticket = Ticket(
            type="return", subject="Broken", customer_id=customer.id, priority="normal", status="new"
        )
        db.session.add(ticket)
        db.session.flush()
        task = HumanTask(
            id=str(uuid4()),
            instance_id=instance.id,
            ticket_id=ticket.id,
            name="review",
            title="Review",
            team=team,
            assignee_id=people[assignee].id if assignee else None,
            priority="normal",
        )
        db.session.add(task)
        db.session.commit()
        return task

    return make


def test_a_decision_is_truthy_only_when_allowed():
    assert Decision(True) and not Decision(False, "no")
    assert Decision(False, "no").reason == "no"


def test_claiming(people, task_of):
    free, alices = task_of(), task_of("alice")
    assert may_claim(people["bob"], free) and may_claim(people["alice"], alices)
    refused = may_claim(people["bob"], alices)
    assert not refused and refused.reason == f"task {alices.id} is already claimed by someone else"
    assert not may_claim(
        people["mike"], alices
    )  # nobody takes a claimed task; managers release or reassign it


@pytest.mark.parametrize("question", [may_release, may_complete])
def test_releasing_and_completing_belong_to_the_holder_managers_and_admins(people, task_of, question):
    free, alices = task_of(), task_of("alice")
    assert all(question(people[name], free) for name in people)
    assert {name for name in people if question(people[name], alices)} == {"alice", "mike", "root"}
    assert question(people["bob"], alices).reason == f"task {alices.id} is claimed by someone else"


def test_reassigning_adds_the_leads_of_the_tasks_team(people, task_of):
    alices, credit = task_of("alice"), task_of("carol", team="credit")
    assert {name for name in people if may_reassign(people[name], alices)} == {
        "alice",
        "lena",
        "mike",
        "root",
    }
    assert not may_reassign(people["lena"], credit)  # she leads returns, not credit
    assert may_reassign(people["lena"], task_of(), people["bob"])
    wrong_team = may_reassign(people["lena"], alices, people["carol"])
    assert not wrong_team and wrong_team.reason == "carol is not a member of team returns"
    outside = task_of(team=None)
    assert may_reassign(people["alice"], outside, people["carol"])  # a task without team goes to any staff
    assert may_reassign(people["alice"], outside, people["jane"]).reason == "jane cannot work on tasks"
    people["bob"].active = False
    assert may_reassign(people["alice"], alices, people["bob"]).reason == "bob cannot work on tasks"


def test_cancelling_is_for_managers_admins_and_leads_of_the_open_tasks_teams(people, task_of):
    ticket = db.session.get(Ticket, task_of("alice").ticket_id)
    assert {name for name in people if may_cancel(people[name], ticket)} == {"lena", "mike", "root"}
    credit_ticket = db.session.get(Ticket, task_of(team="credit").ticket_id)
    assert not may_cancel(people["lena"], credit_ticket)
    assert "managers, admins and the leads" in may_cancel(people["alice"], ticket).reason
    assert may_cancel(people["root"], None) and not may_cancel(people["lena"], None)


def test_the_task_page_buttons_come_from_the_same_answers(people, task_of):
    free, alices = task_of(), task_of("alice")
    assert task_actions(people["bob"], free) == TaskActions(
        True, False, True, True
    )  # claim, release, complete, reassign
    assert task_actions(people["alice"], alices) == TaskActions(False, True, True, True)
    assert task_actions(people["bob"], alices) == TaskActions(False, False, False, False)
    assert task_actions(people["lena"], alices) == TaskActions(False, False, False, True)
    assert task_actions(people["mike"], alices) == TaskActions(False, True, True, True)


def test_the_engine_asks_every_registered_checker(app, people, task_of):
    """A checker registered with the engine (next to POLICY) is asked by every command run for a person."""

    class NotBob:
        def __getattr__(self, question):
            return lambda user, *objects: Decision(
                user.username != "bob", f"{question} refused for {user.username}"
            )

    task = task_of()
    register_checker(app, NotBob())  # this test's app only
    with pytest.raises(Conflict, match="may_claim refused for bob"):
        claim_task(task.id, people["bob"])
    assert claim_task(task.id, people["alice"]).assignee_id == people["alice"].id


def test_without_a_checker_a_command_for_a_person_fails_closed(app, people, task_of):
    task = task_of()
    key = next(key for key, value in app.extensions.items() if value == [POLICY])  # create_app registered it
    del app.extensions[key]
    with pytest.raises(RuntimeError, match="no command checker"):
        claim_task(task.id, people["bob"])
    assert db.session.get(HumanTask, task.id).assignee_id is None


def test_cancel_instance_asks_may_cancel_then_refuses_an_ended_instance(app, people):
    deploy(user_task_process(), actor="test")
    ticket, instance = start_process("tiny", make_customer().id, "Never mind", {})
    with pytest.raises(Forbidden, match="may cancel a ticket"):
        cancel_instance(instance.id, user=people["alice"])
    cancel_instance(instance.id, user=people["mike"])
    assert db.session.get(Ticket, ticket.id).status == "cancelled"
    with pytest.raises(Conflict, match=f"ticket {ticket.id} has already ended"):
        cancel_instance(instance.id, user=people["mike"])
