"""The task endpoints: /api/v1/tasks lists open tasks (with filters), claim, release and complete
them; 404 for a task that does not exist or that the caller may not see, 409 for a task that is
no longer open or held by someone else, 422 for data the form or a following step refuses."""

import pytest
from sqlalchemy import event

from app.engine import deploy, task_data
from app.extensions import db
from app.models import HumanTask
from app.worker import drain
from tests.api.conftest import Api
from tests.diagrams import gateway_process, user_task_process
from tests.engine.conftest import RETURN_START
from tests.factories import make_user, token_for


def _open(api, customer, ticket_type="return", data=None):
    answer = api.post(
        "/api/v1/tickets",
        json={
            "type": ticket_type,
            "customer_id": customer.id,
            "subject": "Broken shoes",
            "data": RETURN_START if data is None else data,
        },
    )
    assert answer.status_code == 201, answer.json
    drain()
    return answer.json["id"]


def _tasks(api, query=""):
    answer = api.get(f"/api/v1/tasks{query}")
    assert answer.status_code == 200, answer.json
    return answer.json["tasks"]


def _only_task(api, ticket_id):
    [task] = _tasks(api, f"?ticket_id={ticket_id}")
    return task


@pytest.fixture
def stranger(staff, client):
    """An agent of another team (credit), who must not see or touch the returns team's tasks."""
    return Api(client, token_for(make_user("carl", "agent", teams=("credit",))))


# ---------------------------------------------------------------------------- list
def test_list_shows_an_open_task_with_its_form_and_instructions(staff, shipped):
    ticket_id = _open(staff["agent"], shipped)
    task = _only_task(staff["agent"], ticket_id)
    assert (task["ticket_id"], task["name"], task["team"]) == (ticket_id, "review_request", "returns")
    assert task["form"]["properties"]["decision"]["enum"] == ["accept", "reject", "more_info"]
    assert task["instructions"] and "{{" not in task["instructions"]
    assert task["assignee"] == "alice"  # round robin: the first member of returns
    assert (
        task["instance_id"] and task["created_at"] and task["priority"] in ("low", "normal", "high", "urgent")
    )


def test_list_filters_by_ticket_team_assignee_and_state(staff, shipped):
    api = staff["admin"]
    first, second = _open(api, shipped), _open(api, shipped)  # round robin: alice, then bob
    deploy(user_task_process(), actor="test")
    outside = _open(api, shipped, "tiny", {})  # a task outside any team: nobody's
    assert {t["ticket_id"] for t in _tasks(api)} == {first, second, outside}
    assert [t["ticket_id"] for t in _tasks(api, f"?ticket_id={second}")] == [second]
    assert {t["ticket_id"] for t in _tasks(api, "?team=returns")} == {first, second}
    assert _tasks(api, "?team=credit") == []
    assert [t["ticket_id"] for t in _tasks(api, "?assignee=alice")] == [first]
    assert [t["ticket_id"] for t in _tasks(api, "?assignee=bob")] == [second]
    assert [t["ticket_id"] for t in _tasks(api, "?assignee=none")] == [outside]
    assert {t["ticket_id"] for t in _tasks(api, "?state=claimed")} == {first, second}
    assert [t["ticket_id"] for t in _tasks(api, "?state=unclaimed")] == [outside]
    assert len(_tasks(api, "?limit=2")) == 2
    refused = api.get("/api/v1/tasks?ticket_id=abc")  # a filter that is not a number is refused
    assert refused.status_code == 422 and "ticket_id" in refused.json["errors"]


def test_list_filtered_by_an_unknown_assignee_is_empty(staff, shipped):
    deploy(user_task_process(), actor="test")
    _open(staff["admin"], shipped, "tiny", {})  # unassigned
    assert _tasks(staff["admin"], "?assignee=nobody-of-that-name") == []


def test_list_shows_an_agent_the_tasks_of_their_teams_and_tasks_outside_any_team(staff, shipped, stranger):
    returned = _open(staff["admin"], shipped)
    deploy(user_task_process(), actor="test")
    outside = _open(staff["admin"], shipped, "tiny", {})
    assert {t["ticket_id"] for t in _tasks(staff["agent"])} == {returned, outside}
    assert [t["ticket_id"] for t in _tasks(stranger)] == [outside]
    assert {t["ticket_id"] for t in _tasks(staff["manager"])} == {
        returned,
        outside,
    }  # a manager of no team sees all


# ---------------------------------------------------------------------------- claim and release
def test_claim_release_and_claim_by_another_agent(staff, shipped):
    alice, bob = staff["agent"], staff["other_agent"]
    task = _only_task(alice, _open(alice, shipped))
    assert task["assignee"] == "alice"
    assert alice.post(f"/api/v1/tasks/{task['id']}/claim").json["task"]["assignee"] == "alice"  # already hers
    taken = bob.post(f"/api/v1/tasks/{task['id']}/claim")
    assert taken.status_code == 409 and "claimed by someone else" in taken.json["error"]
    assert bob.post(f"/api/v1/tasks/{task['id']}/release").status_code == 409
    released = alice.post(f"/api/v1/tasks/{task['id']}/release")
    assert released.status_code == 200 and released.json["task"]["assignee"] is None
    assert alice.post(f"/api/v1/tasks/{task['id']}/release").json["task"]["assignee"] is None  # no-op
    assert bob.post(f"/api/v1/tasks/{task['id']}/claim").json["task"]["assignee"] == "bob"
    assert _only_task(alice, task["ticket_id"])["assignee"] == "bob"


def test_a_manager_may_release_a_task_someone_else_holds(staff, shipped):
    task = _only_task(staff["agent"], _open(staff["agent"], shipped))
    released = staff["manager"].post(f"/api/v1/tasks/{task['id']}/release")
    assert released.status_code == 200 and released.json["task"]["assignee"] is None


def test_claim_release_and_complete_of_an_unknown_task_are_404(staff):
    for action in ("claim", "release", "complete"):
        answer = staff["agent"].post(f"/api/v1/tasks/nope/{action}", json={"data": {}})
        assert answer.status_code == 404 and "not found" in answer.json["error"], action


def test_unknown_task_is_404(staff):
    assert staff["agent"].post("/api/v1/tasks/nope/complete", json={"data": {}}).status_code == 404


# ---------------------------------------------------------------------------- complete
def test_complete_with_a_form_validates_the_data_and_runs_the_process_on(staff, shipped):
    api = staff["agent"]
    ticket_id = _open(api, shipped)
    task = _only_task(api, ticket_id)
    invalid = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "maybe"}})
    assert invalid.status_code == 422 and "decision" in invalid.json["errors"]
    missing = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "reject"}})
    assert missing.status_code == 422 and "rejection_reason" in missing.json["errors"]
    assert _only_task(api, ticket_id)["id"] == task["id"]  # nothing changed
    done = api.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "accept", "resolution": "refund"}}
    )
    assert done.status_code == 200 and done.json["completed"] == task["id"]
    # the status change before it runs inline, so the next task opens in the same command
    assert done.json["opened_tasks"] == [_only_task(api, ticket_id)["id"]]
    drain()
    assert _only_task(api, ticket_id)["name"] == "receive_item"
    assert api.get(f"/api/v1/tickets/{ticket_id}").json["status"] == "awaiting_return"


def test_complete_a_task_twice_is_409_saying_when_and_by_whom(staff, shipped):
    api = staff["agent"]
    task = _only_task(api, _open(api, shipped))
    data = {"decision": "more_info", "question": "Photo please?"}
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}).status_code == 200
    again = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert (
        again.status_code == 409
        and "no longer open" in again.json["error"]
        and "by alice" in again.json["error"]
    )
    assert api.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 409
    assert api.post(f"/api/v1/tasks/{task['id']}/release").status_code == 409


def test_complete_a_task_someone_else_holds_is_409_but_a_manager_may(staff, shipped):
    task = _only_task(staff["agent"], _open(staff["agent"], shipped))
    data = {"decision": "reject", "rejection_reason": "Worn"}
    held = staff["other_agent"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert held.status_code == 409 and "claimed by someone else" in held.json["error"]
    assert (
        staff["manager"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}).status_code == 200
    )


def test_complete_without_a_form_merges_the_data_by_the_formless_rules(staff, shipped):
    deploy(user_task_process(), actor="test")
    api = staff["agent"]
    ticket_id = _open(api, shipped, "tiny", {"note": "first"})
    task = _only_task(api, ticket_id)
    assert task["form"] is None and task["team"] is None
    assert task_data(task["id"])["note"] == "first"
    reserved = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"ticket_id": 5}})
    assert reserved.status_code == 422 and "ticket_id" in reserved.json["errors"]
    unreadable = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"not a name": 1}})
    assert unreadable.status_code == 422 and "not a name" in unreadable.json["errors"]
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"note": "second", "score": 3}})
    assert done.status_code == 200
    detail = api.get(f"/api/v1/tickets/{ticket_id}").json
    assert (detail["status"], detail["instance"]["status"]) == ("closed", "completed")
    [completed] = [h for h in detail["history"] if h["kind"] == "task_completed"]
    assert completed["data"] == {"note": "second", "score": 3} and completed["actor"] == "alice"


def test_complete_with_an_empty_body_or_no_object_is_422(staff, shipped):
    deploy(user_task_process(), actor="test")
    task = _only_task(staff["agent"], _open(staff["agent"], shipped, "tiny", {}))
    url = f"/api/v1/tasks/{task['id']}/complete"
    no_json = staff["agent"].client.post(url, data="x", headers=staff["agent"]._headers())
    assert no_json.status_code == 422 and "body" in no_json.json["errors"]
    assert staff["agent"].post(url, json=[1, 2]).status_code == 422
    assert staff["agent"].post(url, json={}).status_code == 200  # no data: an empty object


def test_complete_that_fails_in_a_following_step_is_422_naming_the_element_and_changes_nothing(
    staff, shipped
):
    deploy(gateway_process("amount > 100"), actor="test")  # `amount` is never set
    api = staff["agent"]
    ticket_id = _open(api, shipped, "gw", {})
    task = _only_task(api, ticket_id)
    failed = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert failed.status_code == 422
    [error] = failed.json["errors"]
    assert error["element_id"] in ("which", "to_yes") and "amount" in failed.json["error"]
    assert _only_task(api, ticket_id)["id"] == task["id"]  # still open: nothing of the step was kept
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"amount": 150}}).status_code == 200
    drain()
    assert _only_task(api, ticket_id)["name"] == "yes"


# ---------------------------------------------------------------------------- access scope
def test_an_agent_of_another_team_gets_404_for_every_action(staff, shipped, stranger):
    task = _only_task(staff["agent"], _open(staff["agent"], shipped))
    for action, body in (
        ("claim", None),
        ("release", None),
        ("complete", {"data": {"decision": "reject", "rejection_reason": "x"}}),
    ):
        answer = stranger.post(f"/api/v1/tasks/{task['id']}/{action}", json=body)
        assert answer.status_code == 404, action
        assert answer.json["error"] == f"task {task['id']} not found"  # as if it did not exist
    db.session.expire_all()
    row = db.session.get(HumanTask, task["id"])
    assert row is not None and row.assignee_id is not None  # untouched


def test_a_closed_task_of_another_team_is_404_not_409(staff, shipped, stranger):
    task = _only_task(staff["agent"], _open(staff["agent"], shipped))
    data = {"decision": "more_info", "question": "Photo please?"}
    assert staff["agent"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}).status_code == 200
    assert stranger.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}).status_code == 404
    assert (
        staff["other_agent"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}).status_code
        == 409
    )


TEAMS_READ = "team_member.is_lead \nFROM team JOIN team_member"  # app.access._teams_query


def test_the_callers_teams_are_read_only_for_a_task_not_their_own(staff, shipped, stranger):
    task = _only_task(staff["agent"], _open(staff["agent"], shipped))  # alice's
    sent = []

    def seen(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert staff["agent"].post(f"/api/v1/tasks/{task['id']}/release").status_code == 200
        assert not any(TEAMS_READ in s for s in sent)  # her own task: no need for her teams
        assert staff["other_agent"].post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
        assert any(TEAMS_READ in s for s in sent)  # a team task: bob's teams say he may
        sent.clear()
        assert stranger.post(f"/api/v1/tasks/{task['id']}/release").status_code == 404
        assert any(TEAMS_READ in s for s in sent)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_a_task_outside_any_team_is_open_to_every_agent(staff, shipped, stranger):
    deploy(user_task_process(), actor="test")
    task = _only_task(stranger, _open(staff["admin"], shipped, "tiny", {}))
    assert stranger.post(f"/api/v1/tasks/{task['id']}/claim").json["task"]["assignee"] == "carl"
    assert stranger.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}).status_code == 200


def test_customers_cannot_use_the_task_endpoints(staff, shipped, client):
    customer = Api(client, token_for(make_user("cora", "customer")))
    assert customer.get("/api/v1/tasks").status_code == 403
    for action in ("claim", "release", "complete"):
        assert customer.post(f"/api/v1/tasks/x/{action}", json={"data": {}}).status_code == 403, action
