"""Two versions of a small process for migration tests.

v1: start -> gateway on `path`:
  a: user task `review` -> end
  b: timer `wait` (PT2H) -> user task `after_wait` -> end
  c: script `prep` (x = 1) -> user task `late` -> end
  d: user task `triage` -> end
  e: message catch `answer` (customer_reply) -> user task `follow_up` -> end
v2: a gains a user task `extra` after `review`; c's `prep` sets x = 2; d's `triage` is renamed `sort`;
e's `answer` is renamed `reply_in`.
"""

from app.engine import deploy, start_process
from app.worker import drain
from tests.diagrams import bpmn
from tests.factories import make_customer


def _version(extra: bool, prep_value: int, triage_id: str, answer_id: str) -> bytes:
    a_tail = (
        '<bpmn:userTask id="extra" name="Extra"><bpmn:incoming>fa2</bpmn:incoming>'
        "<bpmn:outgoing>fa3</bpmn:outgoing></bpmn:userTask>"
        '<bpmn:sequenceFlow id="fa2" sourceRef="review" targetRef="extra"/>'
        '<bpmn:sequenceFlow id="fa3" sourceRef="extra" targetRef="end_a"/>'
        if extra
        else '<bpmn:sequenceFlow id="fa2" sourceRef="review" targetRef="end_a"/>'
    )
    end_a_in = "fa3" if extra else "fa2"
    return bpmn(
        f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="which"><bpmn:incoming>f0</bpmn:incoming>
    <bpmn:outgoing>fa</bpmn:outgoing><bpmn:outgoing>fb</bpmn:outgoing>
    <bpmn:outgoing>fc</bpmn:outgoing><bpmn:outgoing>fd</bpmn:outgoing><bpmn:outgoing>fe</bpmn:outgoing>
  </bpmn:exclusiveGateway>
  <bpmn:intermediateCatchEvent id="{answer_id}" name="Answer"><bpmn:incoming>fe</bpmn:incoming>
    <bpmn:outgoing>fe2</bpmn:outgoing>
    <bpmn:messageEventDefinition id="answer_definition" messageRef="customer_reply">
      <bpmn:extensionElements><spiffworkflow:messageVariable>reply</spiffworkflow:messageVariable>
      </bpmn:extensionElements>
    </bpmn:messageEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="follow_up" name="Follow up"><bpmn:incoming>fe2</bpmn:incoming><bpmn:outgoing>fe3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_e"><bpmn:incoming>fe3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="fe" sourceRef="which" targetRef="{answer_id}"><bpmn:conditionExpression>path == "e"</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="fe2" sourceRef="{answer_id}" targetRef="follow_up"/>
  <bpmn:sequenceFlow id="fe3" sourceRef="follow_up" targetRef="end_e"/>
  <bpmn:userTask id="review" name="Review"><bpmn:incoming>fa</bpmn:incoming><bpmn:outgoing>fa2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_a"><bpmn:incoming>{end_a_in}</bpmn:incoming></bpmn:endEvent>
  {a_tail}
  <bpmn:intermediateCatchEvent id="wait" name="Wait"><bpmn:incoming>fb</bpmn:incoming><bpmn:outgoing>fb2</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT2H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="after_wait" name="After wait"><bpmn:incoming>fb2</bpmn:incoming><bpmn:outgoing>fb3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_b"><bpmn:incoming>fb3</bpmn:incoming></bpmn:endEvent>
  <bpmn:scriptTask id="prep" name="Prepare"><bpmn:incoming>fc</bpmn:incoming><bpmn:outgoing>fc2</bpmn:outgoing>
    <bpmn:script>x = {prep_value}</bpmn:script></bpmn:scriptTask>
  <bpmn:userTask id="late" name="Late"><bpmn:incoming>fc2</bpmn:incoming><bpmn:outgoing>fc3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_c"><bpmn:incoming>fc3</bpmn:incoming></bpmn:endEvent>
  <bpmn:userTask id="{triage_id}" name="Triage"><bpmn:incoming>fd</bpmn:incoming><bpmn:outgoing>fd2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_d"><bpmn:incoming>fd2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="which"/>
  <bpmn:sequenceFlow id="fa" sourceRef="which" targetRef="review"><bpmn:conditionExpression>path == "a"</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="fb" sourceRef="which" targetRef="wait"><bpmn:conditionExpression>path == "b"</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="fc" sourceRef="which" targetRef="prep"><bpmn:conditionExpression>path == "c"</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="fd" sourceRef="which" targetRef="{triage_id}"><bpmn:conditionExpression>path == "d"</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="fb2" sourceRef="wait" targetRef="after_wait"/>
  <bpmn:sequenceFlow id="fb3" sourceRef="after_wait" targetRef="end_b"/>
  <bpmn:sequenceFlow id="fc2" sourceRef="prep" targetRef="late"/>
  <bpmn:sequenceFlow id="fc3" sourceRef="late" targetRef="end_c"/>
  <bpmn:sequenceFlow id="fd2" sourceRef="{triage_id}" targetRef="end_d"/>""",
        "movable",
        extra='<bpmn:message id="customer_reply" name="customer_reply"/>\n',
    )


V1 = _version(extra=False, prep_value=1, triage_id="triage", answer_id="answer")
V2 = _version(extra=True, prep_value=2, triage_id="sort", answer_id="reply_in")


def running_on_v1(paths: str) -> dict[str, list[int]]:
    """Version 1 deployed, a ticket started per letter of `paths` (the path it takes), its jobs run,
    then version 2 deployed. Returns the ticket ids by path."""
    deploy(V1, actor="test")
    customer = make_customer()
    ids: dict[str, list[int]] = {}
    for path in paths:
        ticket, _ = start_process("movable", customer.id, f"path {path}", {"path": path}, actor="test")
        ids.setdefault(path, []).append(ticket.id)
    drain()
    deploy(V2, actor="test")
    return ids
