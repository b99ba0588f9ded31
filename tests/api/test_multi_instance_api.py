"""A multi-instance task over a collection: one task per item; a missing collection is a 422."""

from app.engine import deploy
from tests.diagrams import bpmn
from tests.factories import make_customer

MULTI = bpmn(
    """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="check_item" name="Check an item">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:multiInstanceLoopCharacteristics>
      <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
      <bpmn:inputDataItem id="item" name="item"/>
    </bpmn:multiInstanceLoopCharacteristics>
  </bpmn:userTask>
  <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check_item"/>
  <bpmn:sequenceFlow id="f2" sourceRef="check_item" targetRef="done"/>""",
    "items_check",
)


def _open(api, customer_id, data):
    return api.post(
        "/api/v1/tickets",
        json={"type": "items_check", "customer_id": customer_id, "subject": "Check", "data": data},
    )


def test_one_task_per_item_then_the_process_ends(staff):
    deploy(MULTI)
    api = staff["admin"]
    answer = _open(api, make_customer().id, {"items": ["SHOE-42", "SOCK-1"]})
    assert answer.status_code == 201, answer.json
    tasks = api.get(f"/api/v1/tasks?ticket_id={answer.json['id']}").json["tasks"]
    assert [t["name"] for t in tasks] == ["check_item", "check_item"]
    for task in tasks:
        assert api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}).status_code == 200
    assert api.get(f"/api/v1/tickets/{answer.json['id']}").json["instance"]["status"] == "completed"


def test_a_missing_collection_is_a_422_naming_the_task_and_nothing_is_stored(staff):
    deploy(MULTI)
    api = staff["admin"]
    answer = _open(api, make_customer().id, {})
    assert answer.status_code == 422
    assert "check_item" in answer.json["error"] and "items" in answer.json["error"]
    assert api.get("/api/v1/tickets").json["tickets"] == []
