"""The ticket lifecycle over HTTP: deploy, open, inbox, claim, complete, messages, incidents.

The task endpoints on their own (filters, claim, release, complete, 404/409/422, access) are in
test_tasks_api.py."""

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Ticket
from app.worker import drain
from tests.diagrams import service_task_process, user_task_process
from tests.engine.conftest import RETURN_START


def _open_return(api, customer, data=None):
    answer = api.post(
        "/api/v1/tickets",
        json={
            "type": "return",
            "customer_id": customer.id,
            "subject": "Broken shoes",
            "data": data or RETURN_START,
        },
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def _only_task(api, ticket_id):
    tasks = api.get(f"/api/v1/tasks?ticket_id={ticket_id}").json["tasks"]
    assert len(tasks) == 1, tasks
    return tasks[0]


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/api/v1/process-definitions"),
        ("post", "/api/v1/process-definitions"),
        ("get", "/api/v1/customers"),
        ("post", "/api/v1/tickets"),
        ("get", "/api/v1/tickets/1"),
        ("get", "/api/v1/tasks"),
        ("post", "/api/v1/tasks/x/claim"),
        ("post", "/api/v1/tasks/x/release"),
        ("post", "/api/v1/tasks/x/complete"),
        ("post", "/api/v1/messages"),
        ("get", "/api/v1/incidents"),
        ("post", "/api/v1/incidents/1/retry"),
    ],
)
def test_routes_need_a_token(client, method, url):
    answer = getattr(client, method)(url, headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert "Bearer" in answer.json["error"]


def test_deploy_new_version_unchanged_and_invalid(staff):
    api = staff["analyst"]
    first = api.post(
        "/api/v1/process-definitions",
        data={"file": (__import__("io").BytesIO(user_task_process()), "t.bpmn")},
        content_type="multipart/form-data",
    )
    assert first.status_code == 201 and first.json["key"] == "tiny" and first.json["version"] == 1
    same = api.client.post(
        "/api/v1/process-definitions",
        data=user_task_process(),
        headers={**api._headers(), "Content-Type": "application/xml"},
    )
    assert same.status_code == 200 and same.json["version"] == 1
    bad = api.client.post(
        "/api/v1/process-definitions",
        data=service_task_process("nope.op"),
        headers={**api._headers(), "Content-Type": "application/xml"},
    )
    assert bad.status_code == 422
    assert bad.json["errors"] == [
        {"file": "upload.bpmn", "element_id": "call", "message": bad.json["errors"][0]["message"]}
    ]
    assert "nope.op" in bad.json["errors"][0]["message"]


def test_deploy_over_2_mib_is_413(staff):
    big = b"<x>" + b"a" * (2 * 1024 * 1024 + 10) + b"</x>"
    answer = staff["analyst"].client.post(
        "/api/v1/process-definitions",
        data=big,
        headers={**staff["analyst"]._headers(), "Content-Type": "application/xml"},
    )
    assert answer.status_code == 413 and "2 MiB" in answer.json["error"]


def test_agents_cannot_deploy(staff):
    assert staff["agent"].post("/api/v1/process-definitions", data=user_task_process()).status_code == 403


def test_definitions_list_start_forms(staff, shipped):
    definitions = {d["key"]: d for d in staff["agent"].get("/api/v1/process-definitions").json["definitions"]}
    assert set(definitions) == {"return", "credit", "general", "complaint"}
    assert "order_number" in definitions["return"]["start_form"]["properties"]


def test_open_ticket_with_invalid_data_names_the_fields(staff, shipped):
    answer = staff["agent"].post(
        "/api/v1/tickets",
        json={"type": "return", "customer_id": shipped.id, "subject": "x", "data": {"amount": -1}},
    )
    assert answer.status_code == 422
    assert answer.json["errors"]["data.order_number"] == "this field is required"
    assert "data.amount" in answer.json["errors"]
    unknown = staff["agent"].post(
        "/api/v1/tickets", json={"type": "nope", "customer_id": shipped.id, "subject": "x", "data": {}}
    )
    assert unknown.status_code == 422 and "type" in unknown.json["errors"]


def test_return_ticket_end_to_end_over_http(staff, shipped):
    agent, other = staff["agent"], staff["other_agent"]
    created = _open_return(agent, shipped)
    assert created["status"] == "new" and created["instance_id"]
    drain()
    task = _only_task(agent, created["id"])
    assert (task["name"], task["team"], task["title"]) == ("review_request", "returns", task["title"])
    assert task["form"]["properties"]["decision"]["enum"] == ["accept", "reject", "more_info"]

    assert agent.post(f"/api/v1/tasks/{task['id']}/claim").json["task"]["assignee"] == "alice"
    assert other.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 409
    invalid = agent.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "maybe"}})
    assert invalid.status_code == 422 and "decision" in invalid.json["errors"]

    asked = agent.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"decision": "more_info", "question": "Photo please?"}},
    )
    assert asked.status_code == 200
    assert agent.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}).status_code == 409
    drain()
    detail = agent.get(f"/api/v1/tickets/{created['id']}").json
    assert detail["status"] == "awaiting_customer"
    assert detail["waiting"]["messages"] == [{"name": "customer_reply", "element_id": "wait_customer_reply"}]

    wrong = agent.post("/api/v1/messages", json={"name": "other", "ticket_id": created["id"], "payload": {}})
    assert wrong.status_code == 404
    reply = agent.post(
        "/api/v1/messages",
        json={"name": "customer_reply", "ticket_id": created["id"], "payload": {"message": "Here it is"}},
    )
    assert reply.status_code == 200
    drain()
    task = _only_task(agent, created["id"])
    agent.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "accept", "resolution": "refund"}}
    )
    drain()
    task = _only_task(agent, created["id"])
    agent.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"item_received": True, "condition": "as_new", "refund_amount": 89.9}},
    )
    drain()
    detail = agent.get(f"/api/v1/tickets/{created['id']}").json
    assert (detail["status"], detail["resolution"]) == ("closed", "refunded")
    assert (
        detail["instance"]["status"] == "running"
    )  # the feedback loop follows: tests/engine/test_deadlines.py
    assert [t["element_id"] for t in detail["waiting"]["timers"]] == ["wait_feedback_delay"]
    kinds = [h["kind"] for h in detail["history"]]
    assert kinds[0] == "ticket_created" and "message_delivered" in kinds
    who = {h["actor"] for h in detail["history"] if h["kind"] == "task_completed"}
    assert who == {"alice"}


def test_message_with_reserved_key_is_refused(staff, shipped):
    created = _open_return(staff["agent"], shipped)
    answer = staff["agent"].post(
        "/api/v1/messages",
        json={"name": "customer_reply", "ticket_id": created["id"], "payload": {"typename": "Evil"}},
    )
    assert answer.status_code == 422


def test_incidents_listed_and_retried_by_a_manager(staff, shipped):
    staff["analyst"].client.post(
        "/api/v1/process-definitions",
        headers={**staff["analyst"]._headers()},
        data=service_task_process(
            "ticket.set_status",
            '<spiffworkflow:parameter id="status" type="str" value="&quot;bogus&quot;"/>',
            retries=1,
        ),
    )
    answer = staff["agent"].post(
        "/api/v1/tickets", json={"type": "svc", "customer_id": shipped.id, "subject": "s", "data": {}}
    )
    drain()
    [incident] = staff["manager"].get("/api/v1/incidents").json["incidents"]
    assert incident["element_id"] == "call" and incident["operator"] == "ticket.set_status"
    assert (
        staff["manager"].get(f"/api/v1/tickets/{answer.json['id']}").json["instance"]["status"] == "incident"
    )
    assert staff["agent"].post(f"/api/v1/incidents/{incident['id']}/retry").status_code == 403
    retried = staff["manager"].post(f"/api/v1/incidents/{incident['id']}/retry")
    assert retried.status_code == 200
    assert staff["manager"].post(f"/api/v1/incidents/{incident['id']}/retry").status_code == 409


def test_unknown_api_route_answers_json_404(staff):
    answer = staff["agent"].get("/api/v1/nothing-here")
    assert answer.status_code == 404 and "error" in answer.json


def test_an_api_start_reads_the_token_and_runs_its_command_in_one_transaction_on_postgresql(staff, shipped):
    """The token check's read transaction goes on into the command on PostgreSQL (one BEGIN, one
    COMMIT); SQLite ends it and begins again with BEGIN IMMEDIATE. Either way a refused command
    leaves nothing behind."""
    _open_return(staff["agent"], shipped)  # the token's first use is recorded apart (LAST_USED_EVERY)
    seen = []
    listeners = {
        "begin": lambda _conn: seen.append("begin"),
        "commit": lambda _conn: seen.append("commit"),
        "rollback": lambda _conn: seen.append("rollback"),
    }
    for name, listener in listeners.items():
        event.listen(db.engine, name, listener)
    try:
        _open_return(staff["agent"], shipped)
        started = list(seen)
        seen.clear()
        tickets = db.session.scalar(db.select(db.func.count()).select_from(Ticket))
        refused = staff["agent"].post(
            "/api/v1/tickets", json={"type": "return", "customer_id": shipped.id, "subject": "x", "data": {}}
        )
    finally:
        for name, listener in listeners.items():
            event.remove(db.engine, name, listener)
    one = db.engine.dialect.name == "postgresql"
    assert started == (["begin", "commit"] if one else ["begin", "commit", "begin", "commit"])
    assert refused.status_code == 422 and "data.order_number" in refused.json["errors"]
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == tickets
