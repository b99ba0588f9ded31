"""Process data without a form: formless tasks and starts merge `data` into the process data,
within limits (size, depth, identifier names, names the engine reserves); a gateway that reads a
name nobody sent answers 422 naming the element and the name, and the task stays open."""

import pytest

from app.engine import task_data
from app.engine.diagrams.forms import ENGINE_NAMES, MAX_DEPTH
from app.extensions import db
from app.models import HumanTask, Ticket
from tests.diagrams import gateway_process


def _deploy(api, source: bytes) -> None:
    answer = api.client.post(
        "/api/v1/process-definitions",
        data=source,
        headers={**api._headers(), "Content-Type": "application/xml"},
    )
    assert answer.status_code in (200, 201), answer.json


def _open(api, customer, data=None, ticket_type="gw"):
    return api.post(
        "/api/v1/tickets",
        json={
            "type": ticket_type,
            "customer_id": customer.id,
            "subject": "Formless",
            "data": {} if data is None else data,
        },
    )


def _task(api, ticket_id, name):
    tasks = api.get(f"/api/v1/tasks?ticket_id={ticket_id}").json["tasks"]
    assert [t["name"] for t in tasks] == [name], tasks
    return tasks[0]


@pytest.fixture
def gateway(staff, shipped):
    """`decide` (no form) -> gateway `which`: `approved == True` goes to `yes`, else `no`."""
    _deploy(staff["analyst"], gateway_process("approved == True"))
    return shipped


def test_formless_complete_merges_data_and_the_gateway_sees_it(staff, gateway):
    api = staff["admin"]
    ticket = _open(api, gateway).json
    task = _task(api, ticket["id"], "decide")
    assert task["form"] is None
    sent = {"approved": True, "notes": {"lines": ["checked", "ok"], "score": 4.5}, "n": None}
    answer = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": sent})
    assert answer.status_code == 200, answer.json
    following = _task(api, ticket["id"], "yes")
    data = task_data(following["id"])
    assert {k: data[k] for k in sent} == sent
    assert data["ticket_id"] == ticket["id"] and data["customer"]["name"] == gateway.name


def test_formless_complete_with_false_takes_the_other_branch(staff, gateway):
    api = staff["admin"]
    ticket = _open(api, gateway).json
    task = _task(api, ticket["id"], "decide")
    assert (
        api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"approved": False}}).status_code
        == 200
    )
    _task(api, ticket["id"], "no")


def test_gateway_reading_a_name_nobody_sent_is_422_and_the_task_stays_open(staff, gateway):
    api = staff["admin"]
    ticket = _open(api, gateway).json
    task = _task(api, ticket["id"], "decide")
    answer = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"aproved": True}})
    assert answer.status_code == 422, answer.json
    [error] = answer.json["errors"]
    assert error["element_id"] == "which" and error["missing"] == "approved"
    assert "which" in answer.json["error"] and "'approved'" in answer.json["error"]
    assert _task(api, ticket["id"], "decide")["id"] == task["id"]  # still open, nothing saved
    assert "aproved" not in task_data(task["id"])
    assert (
        api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"approved": True}}).status_code == 200
    )


@pytest.mark.parametrize(
    "data,key,words",
    [
        ({"ticket_id": 7}, "ticket_id", "set by the engine"),
        ({"customer": {"name": "Mallory"}}, "customer", "set by the engine"),
        ({"feedback_delay": "PT1S"}, "feedback_delay", "set by the engine"),
        ({"priority": "urgent"}, "priority", "set by the engine"),
        ({"order-number": "SO-1"}, "order-number", "identifiers"),
        ({"2fast": 1}, "2fast", "identifiers"),
        ({"class": "gold"}, "class", "keywords"),
        ({"_hidden": 1}, "_hidden", "'_'"),
        ({"ok": {"deep": [{"typename": "Evil"}]}}, "typename", "reserved"),
    ],
)
def test_formless_complete_refuses_names_with_422_naming_the_key(staff, gateway, data, key, words):
    api = staff["admin"]
    ticket = _open(api, gateway).json
    task = _task(api, ticket["id"], "decide")
    answer = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert answer.status_code == 422, answer.json
    [(field, message)] = answer.json["errors"].items()
    assert field.split(".")[-1].split("]")[-1] == key or field.endswith(key), field
    assert words in message
    _task(api, ticket["id"], "decide")


def test_formless_data_size_limit_names_the_largest_field(staff, gateway, app):
    api = staff["admin"]
    ticket = _open(api, gateway).json
    task = _task(api, ticket["id"], "decide")
    big = {"approved": True, "notes": "x" * (64 * 1024)}
    answer = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": big})
    assert answer.status_code == 422
    assert "65536" in answer.json["errors"]["data"] and "'notes'" in answer.json["errors"]["data"]
    app.config["MAX_PROCESS_DATA_BYTES"] = 128 * 1024  # configurable
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": big}).status_code == 200


def _nested(levels: int) -> dict:
    """A data object `levels` objects deep (the data object itself is level 1)."""
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"inner": value}
    return value


def test_formless_data_depth_limit(staff, gateway):
    api = staff["admin"]
    ticket = _open(api, gateway).json
    task = _task(api, ticket["id"], "decide")
    too_deep = _nested(MAX_DEPTH + 1)
    answer = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": too_deep})
    assert answer.status_code == 422
    [(field, message)] = answer.json["errors"].items()
    assert field.endswith(".inner") and "nested too deeply" in message
    deep_enough = {**_nested(MAX_DEPTH), "approved": True}
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": deep_enough}).status_code == 200


def test_formless_complete_needs_an_object(staff, gateway):
    api = staff["admin"]
    ticket = _open(api, gateway).json
    task = _task(api, ticket["id"], "decide")
    for data in ([1, 2], "yes", None):
        answer = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
        assert answer.status_code == 422 and "data" in answer.json["errors"], data


def test_formless_start_through_the_api_takes_data(staff, gateway):
    api = staff["agent"]
    answer = _open(api, gateway, {"approved": True, "channel": "phone"})
    assert answer.status_code == 201, answer.json
    ticket = db.session.get(Ticket, answer.json["id"])
    assert ticket.data == {"approved": True, "channel": "phone"}
    task = db.session.execute(db.select(HumanTask).where(HumanTask.ticket_id == ticket.id)).scalar_one()
    data = task_data(task.id)
    assert data["channel"] == "phone"
    # Exactly the engine's names come on top of what was sent (forms.ENGINE_NAMES is the list).
    assert set(data) - {"approved", "channel"} == ENGINE_NAMES
    # The gateway after `decide` reads the start data: no data at completion needed.
    completed = staff["admin"].post(f"/api/v1/tasks/{task.id}/complete", json={"data": {}})
    assert completed.status_code == 200
    _task(staff["admin"], ticket.id, "yes")


def test_formless_start_refuses_reserved_and_bad_names(staff, gateway):
    api = staff["agent"]
    for data, field in [
        ({"subject": "other"}, "data.subject"),
        ({"typename": "X"}, "data.typename"),
        ({"a b": 1}, "data.a b"),
        ({"x": _nested(MAX_DEPTH)}, None),
    ]:
        answer = _open(api, gateway, data)
        assert answer.status_code == 422, data
        if field:
            assert field in answer.json["errors"], answer.json
        else:
            assert "nested too deeply" in next(iter(answer.json["errors"].values()))
    assert db.session.execute(db.select(Ticket)).first() is None


def test_formless_start_whose_first_gateway_misses_data_is_422(staff, shipped):
    from tests.diagrams import bpmn

    _deploy(
        staff["analyst"],
        bpmn(
            """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="route" default="f3"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="vip" name="VIP"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="normal" name="Normal"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="e1"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="e2"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="route"/>
  <bpmn:sequenceFlow id="f2" sourceRef="route" targetRef="vip">
    <bpmn:conditionExpression>tier == "gold"</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f3" sourceRef="route" targetRef="normal"/>
  <bpmn:sequenceFlow id="f4" sourceRef="vip" targetRef="e1"/>
  <bpmn:sequenceFlow id="f5" sourceRef="normal" targetRef="e2"/>""",
            "routed",
        ),
    )
    answer = _open(staff["agent"], shipped, {}, "routed")
    assert answer.status_code == 422
    assert answer.json["errors"] == [
        {"element_id": "route", "missing": "tier", "message": answer.json["error"]}
    ]
    assert db.session.execute(db.select(Ticket)).first() is None
    created = _open(staff["agent"], shipped, {"tier": "gold"}, "routed")
    assert created.status_code == 201
    _task(staff["admin"], created.json["id"], "vip")


def test_a_form_still_decides_with_its_schema(staff, shipped):
    """With a form, the JSON Schema decides as before: a field outside it is refused."""
    from tests.engine.conftest import RETURN_START

    answer = staff["agent"].post(
        "/api/v1/tickets",
        json={
            "type": "return",
            "customer_id": shipped.id,
            "subject": "x",
            "data": {**RETURN_START, "extra": 1},
        },
    )
    assert answer.status_code == 422 and answer.json["errors"] == {
        "data.extra": "this field is not part of the form"
    }


def test_a_body_nested_beyond_the_json_parser_is_400_not_500(staff, gateway):
    api = staff["admin"]
    body = (
        '{"type": "gw", "subject": "s", "customer_id": 1, "data": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    )
    answer = api.client.post(
        "/api/v1/tickets", data=body, headers={**api._headers(), "Content-Type": "application/json"}
    )
    assert answer.status_code == 400 and "nested too deeply" in answer.json["errors"]["body"]
