"""A refund process drawn with its diagram (BPMN DI), for the dashboard's viewer.

start -> service task `issue_refund` (refund.issue, amount = the data's `amount`) -> user task
`confirm_refund` -> end, with a 2-day timer on the user task's boundary. A ticket opened with a
negative amount makes the handler refuse its input: an incident at `issue_refund`, which a manager
fixes by editing `amount`.
"""

REFUND_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="refund_defs" targetNamespace="http://ticketflow.test">
  <bpmn:process id="refund" name="Refund" isExecutable="true">
    <bpmn:startEvent id="start" name="Requested"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="issue_refund" name="Issue refund">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="refund.issue" resultVariable="refund">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="amount" type="float" value="amount"/>
          </spiffworkflow:parameters>
          <spiffworkflow:retry retries="1"/>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="confirm_refund" name="Confirm refund">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="reminder" name="2 days" attachedToRef="confirm_refund" cancelActivity="false">
      <bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="reminded"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="done" name="Refunded"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="issue_refund"/>
    <bpmn:sequenceFlow id="f2" sourceRef="issue_refund" targetRef="confirm_refund"/>
    <bpmn:sequenceFlow id="f3" sourceRef="confirm_refund" targetRef="done"/>
    <bpmn:sequenceFlow id="f4" sourceRef="reminder" targetRef="reminded"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="refund_diagram">
    <bpmndi:BPMNPlane id="refund_plane" bpmnElement="refund">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="issue_refund_di" bpmnElement="issue_refund"><dc:Bounds x="190" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="confirm_refund_di" bpmnElement="confirm_refund"><dc:Bounds x="350" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="reminder_di" bpmnElement="reminder"><dc:Bounds x="382" y="140" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="reminded_di" bpmnElement="reminded"><dc:Bounds x="382" y="230" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="done_di" bpmnElement="done"><dc:Bounds x="512" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="190" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="290" y="118"/><di:waypoint x="350" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="450" y="118"/><di:waypoint x="512" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f4_di" bpmnElement="f4"><di:waypoint x="400" y="176"/><di:waypoint x="400" y="230"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
