"""The bundle a new ticket type starts from: a start event with a start form, one user task in a
lane of the default team, and an end; the start form file beside it."""

import json
from xml.sax.saxutils import quoteattr

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" \
id="{key}_definitions" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Ticketflow studio" \
exporterVersion="1.0">
  <bpmn:collaboration id="{key}_collaboration">
    <bpmn:participant id="{key}_participant" name={name} processRef="{key}"/>
  </bpmn:collaboration>
  <bpmn:process id="{key}" name={name} isExecutable="true">
    <bpmn:laneSet id="{key}_lanes">
      <bpmn:lane id="lane_{team_id}" name={team}>
        <bpmn:flowNodeRef>start_{key}</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>handle_request</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_{key}</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start_{key}" name="Ticket opened">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="{key}_start.json"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:outgoing>flow_start_to_handle</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="handle_request" name="Handle the request">
      <bpmn:extensionElements>
        <spiffworkflow:instructionsForEndUser>Read the request and do what it asks.</spiffworkflow:instructionsForEndUser>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_start_to_handle</bpmn:incoming>
      <bpmn:outgoing>flow_handle_to_end</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end_{key}" name="Done">
      <bpmn:incoming>flow_handle_to_end</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_start_to_handle" sourceRef="start_{key}" targetRef="handle_request"/>
    <bpmn:sequenceFlow id="flow_handle_to_end" sourceRef="handle_request" targetRef="end_{key}"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="{key}_diagram">
    <bpmndi:BPMNPlane id="{key}_plane" bpmnElement="{key}_collaboration">
      <bpmndi:BPMNShape id="{key}_participant_di" bpmnElement="{key}_participant" isHorizontal="true">
        <dc:Bounds x="120" y="60" width="560" height="200"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_{team_id}_di" bpmnElement="lane_{team_id}" isHorizontal="true">
        <dc:Bounds x="150" y="60" width="530" height="200"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_{key}_di" bpmnElement="start_{key}">
        <dc:Bounds x="212" y="142" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="handle_request_di" bpmnElement="handle_request">
        <dc:Bounds x="330" y="120" width="100" height="80"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_{key}_di" bpmnElement="end_{key}">
        <dc:Bounds x="532" y="142" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="flow_start_to_handle_di" bpmnElement="flow_start_to_handle">
        <di:waypoint x="248" y="160"/>
        <di:waypoint x="330" y="160"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="flow_handle_to_end_di" bpmnElement="flow_handle_to_end">
        <di:waypoint x="430" y="160"/>
        <di:waypoint x="532" y="160"/>
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def start_form(name: str) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": name,
        "description": "Tell us what you need.",
        "type": "object",
        "properties": {
            "description": {
                "type": "string",
                "title": "Description",
                "x-widget": "textarea",
                "maxLength": 4000,
                "minLength": 1,
            }
        },
        "required": ["description"],
    }


def template_files(key: str, name: str, team: str) -> dict[str, str]:
    """{`<key>.bpmn`, `<key>_start.json`} of a new type (key and team are identifier-like)."""
    team_id = "".join(c if c.isalnum() or c == "_" else "_" for c in team)
    diagram = TEMPLATE.format(key=key, name=quoteattr(name), team=quoteattr(team), team_id=team_id)
    return {
        f"{key}.bpmn": diagram,
        f"{key}_start.json": json.dumps(start_form(name), indent=2, ensure_ascii=False) + "\n",
    }
