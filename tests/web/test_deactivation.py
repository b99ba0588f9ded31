"""Deactivating an agent never leaves tasks with an inactive person: the admin page and
`flask users deactivate` ask where the open tasks go and move them with the deactivation, in one
step (the engine command `hand_over_tasks`); assignment never picks an inactive user."""

import pytest

from app.engine import InvalidData, complete_task, deploy, hand_over_tasks, start_process
from app.extensions import db
from app.models import ApiToken, HistoryEvent, HumanTask, User
from app.worker import drain
from tests.engine.test_bundles import _owned
from tests.factories import csrf_of, deploy_shipped, login, make_customer, make_user, token_for

GENERAL = {"question": "Where is my parcel?", "category": "delivery"}


@pytest.fixture
def support(app):
    """dave (holding two open general questions), erin and an admin; support is round robin."""
    deploy_shipped("general")
    dave = make_user("dave", teams=("support",), password="pw")
    tickets = [start_process("general", make_customer().id, f"Q{i}", GENERAL)[0] for i in range(3)]
    drain()
    erin = make_user("erin", teams=("support",), password="pw")
    make_user("root", "admin", password="pw")
    # Round robin with dave alone: dave holds all three; give one back so it is his two.
    first = _tasks_of(dave)[0]
    first.assignee_id = None
    db.session.commit()
    return {"dave": dave, "erin": erin, "tickets": tickets}


def _tasks_of(user: User) -> list[HumanTask]:
    return list(
        db.session.execute(
            db.select(HumanTask).where(HumanTask.assignee_id == user.id).order_by(HumanTask.created_at)
        ).scalars()
    )


def _user(username: str) -> User:
    return db.session.execute(db.select(User).where(User.username == username)).scalar_one()


# --- the engine command ----------------------------------------------------------------------


def test_hand_over_tasks_returns_them_to_the_team_queue_with_a_history_row(support):
    moved = hand_over_tasks(support["dave"], None, "root")
    assert len(moved) == 2 and _tasks_of(support["dave"]) == []
    assert all(task.assignee_id is None and task.team == "support" for task in moved)
    kinds = db.session.execute(
        db.select(HistoryEvent.kind, HistoryEvent.actor).where(
            HistoryEvent.task_id.in_([t.id for t in moved])
        )
    ).all()
    assert kinds.count(("task_released", "root")) == 2


def test_hand_over_tasks_and_the_deactivation_commit_together_or_not_at_all(support):
    dave = support["dave"]

    def deactivate_then_fail():
        dave.active = False
        raise InvalidData({"active": "refused on purpose"})

    with pytest.raises(InvalidData):
        hand_over_tasks(dave, support["erin"], "root", also=deactivate_then_fail)
    db.session.expire_all()
    assert _user("dave").active is True and len(_tasks_of(_user("dave"))) == 2


def test_hand_over_tasks_refuses_an_inactive_receiver_naming_the_field(support):
    erin = support["erin"]
    erin.active = False
    db.session.commit()
    with pytest.raises(InvalidData) as caught:
        hand_over_tasks(support["dave"], erin, "root")
    assert set(caught.value.errors) == {"reassign_to"}
    assert len(_tasks_of(support["dave"])) == 2


def test_a_ticket_s_next_task_does_not_go_back_to_the_deactivated_agent(support):
    dave, erin = support["dave"], support["erin"]
    [task, _] = _tasks_of(dave)
    hand_over_tasks(dave, erin, "root", also=lambda: setattr(dave, "active", False))
    complete_task(task.id, {"information_given": False}, erin)  # keep working: a new round
    drain()
    [again] = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == task.ticket_id)).scalars()
    assert again.assignee_id == erin.id


def test_a_diagram_naming_an_inactive_user_leaves_the_task_in_the_queue(app):
    dave = make_user("dave", teams=("support",))
    dave.active = False
    db.session.commit()
    deploy(_owned("humanPerformer", "user(dave)"))
    ticket, _ = start_process("owned", make_customer().id, "Owned", {})
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    assert task.assignee_id is None


# --- the admin page --------------------------------------------------------------------------


def _edit(client, user: User, **changes):
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    form = {"name": user.name, "role": user.role, "teams": "support", "capacity": "20", **changes}
    return client.post(f"/admin/users/{user.id}", data={**form, "csrf_token": csrf_of(page)})


def test_the_admin_page_asks_where_the_open_tasks_go_before_deactivating(support, client):
    login(client, "root")
    page = client.get(f"/admin/users/{support['dave'].id}").get_data(as_text=True)
    assert "Dave holds 2 open tasks. If you deactivate them" in page and 'name="open_tasks"' in page
    answer = _edit(client, support["dave"])  # "active" unticked, no choice made
    assert answer.status_code == 422
    assert "choose what happens to their 2 open tasks" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert _user("dave").active is True and len(_tasks_of(_user("dave"))) == 2


def test_deactivating_on_the_admin_page_returns_the_tasks_to_the_queue(support, client):
    token_for(support["dave"])
    login(client, "root")
    answer = _edit(client, support["dave"], open_tasks="queue")
    assert answer.status_code == 302
    db.session.expire_all()
    dave = _user("dave")
    assert dave.active is False and _tasks_of(dave) == []
    assert (
        db.session.execute(
            db.select(db.func.count(ApiToken.id)).where(
                ApiToken.user_id == dave.id, ApiToken.revoked_at.is_(None)
            )
        ).scalar_one()
        == 0
    )


def test_deactivating_on_the_admin_page_reassigns_the_tasks_to_a_named_agent(support, client):
    login(client, "root")
    answer = _edit(client, support["dave"], open_tasks="reassign", reassign_to=str(support["erin"].id))
    assert answer.status_code == 302
    db.session.expire_all()
    assert _user("dave").active is False and _tasks_of(_user("dave")) == []
    assert len(_tasks_of(_user("erin"))) == 2


def test_the_admin_page_refuses_reassigning_to_nobody(support, client):
    login(client, "root")
    answer = _edit(client, support["dave"], open_tasks="reassign", reassign_to="")
    assert answer.status_code == 422
    assert "choose the active agent who takes the tasks" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert _user("dave").active is True


# --- the command line ------------------------------------------------------------------------


def test_flask_users_deactivate_needs_to_know_where_the_tasks_go(support, runner):
    result = runner.invoke(args=["users", "deactivate", "dave"])
    assert result.exit_code != 0 and "has 2 open tasks" in result.output
    db.session.expire_all()
    assert _user("dave").active is True


def test_flask_users_deactivate_reassigns_the_tasks_in_one_step(support, runner):
    result = runner.invoke(args=["users", "deactivate", "dave", "--reassign-to", "erin"])
    assert result.exit_code == 0, result.output
    assert "2 open tasks moved to 'erin'" in result.output
    db.session.expire_all()
    assert _user("dave").active is False and len(_tasks_of(_user("erin"))) == 2


def test_flask_users_deactivate_to_the_queue(support, runner):
    result = runner.invoke(args=["users", "deactivate", "dave", "--to-queue"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _user("dave").active is False and _tasks_of(_user("dave")) == []
