"""Version 2 of the shipped return flow, for the migration proof.

Two changes an analyst might make:
- a new step: after "Receive returned items" the returns team inspects the items (`inspect_item`)
  before they are restocked;
- a removed step: the second approver's task `approve_refund` is gone, replaced by a team lead's
  task `approve_refund_by_lead` (tickets waiting at `approve_refund` cannot move without a mapping).
"""

from pathlib import Path

RETURN_V1 = (Path(__file__).resolve().parents[2] / "processes" / "return.bpmn").read_text()

INSPECT = """    <bpmn:userTask id="inspect_item" name="Inspect returned items">
      <bpmn:incoming>flow_receive_item_to_inspect_item</bpmn:incoming>
      <bpmn:outgoing>flow_receive_item_to_restock_items</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_receive_item_to_inspect_item" sourceRef="receive_item" targetRef="inspect_item"/>
"""


SHAPES = """      <bpmndi:BPMNShape id="inspect_item_di" bpmnElement="inspect_item">
        <dc:Bounds x="1355" y="480" width="100" height="80"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="flow_receive_item_to_inspect_item_di" bpmnElement="flow_receive_item_to_inspect_item">
        <di:waypoint x="1330" y="455"/>
        <di:waypoint x="1330" y="520"/>
        <di:waypoint x="1355" y="520"/>
      </bpmndi:BPMNEdge>
"""
OLD_EDGE = """        <di:waypoint x="1380" y="415"/>
        <di:waypoint x="1430" y="415"/>"""
NEW_EDGE = """        <di:waypoint x="1455" y="520"/>
        <di:waypoint x="1480" y="520"/>
        <di:waypoint x="1480" y="455"/>"""


def _swap(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) == count, f"{old!r} appears {text.count(old)} times, expected {count}"
    return text.replace(old, new)


def return_v2() -> bytes:
    text = RETURN_V1
    for old in ('id="approve_refund"', 'targetRef="approve_refund"', 'sourceRef="approve_refund"'):
        text = _swap(text, old, old.replace("approve_refund", "approve_refund_by_lead"))
    text = _swap(
        text,
        "<bpmn:flowNodeRef>approve_refund</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>approve_refund_by_lead</bpmn:flowNodeRef>",
    )
    text = _swap(text, 'bpmnElement="approve_refund"', 'bpmnElement="approve_refund_by_lead"')
    text = _swap(text, 'name="Approve refund (second approver)"', 'name="Approve refund (team lead)"')
    text = _swap(
        text,
        "<bpmn:flowNodeRef>receive_item</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>receive_item</bpmn:flowNodeRef><bpmn:flowNodeRef>inspect_item</bpmn:flowNodeRef>",
    )
    text = _swap(
        text,
        "      <bpmn:outgoing>flow_receive_item_to_restock_items</bpmn:outgoing>\n    </bpmn:userTask>\n",
        "      <bpmn:outgoing>flow_receive_item_to_inspect_item</bpmn:outgoing>\n    </bpmn:userTask>\n"
        + INSPECT,
    )
    text = _swap(
        text,
        'sourceRef="receive_item" targetRef="restock_items"',
        'sourceRef="inspect_item" targetRef="restock_items"',
    )
    text = _swap(text, OLD_EDGE, NEW_EDGE)
    text = _swap(
        text,
        '      <bpmndi:BPMNShape id="receive_item_di"',
        SHAPES + '      <bpmndi:BPMNShape id="receive_item_di"',
    )
    return text.encode()
