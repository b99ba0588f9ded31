// Ticketflow's own bpmnlint rules, for service work ("plugin:ticketflow/recommended" in config.js).
// Each is a bpmnlint rule factory: () => { check(node, reporter) }, run on the diagram's moddle
// tree (bpmn-js's business objects) every time the diagram changes.
import { is, isAny } from 'bpmnlint-utils';

import { FORM_PROPERTY, bodyText, propertyValue } from '../spiff-model.js';

const INSTRUCTIONS = 'spiffworkflow:InstructionsForEndUser';

function flowElements(container) {
  return (container && container.get && container.get('flowElements')) || [];
}

function hasDefinition(event, type) {
  return (event.get('eventDefinitions') || []).some((definition) => is(definition, type));
}

const isTimerCatch = (node) => is(node, 'bpmn:IntermediateCatchEvent') && hasDefinition(node, 'bpmn:TimerEventDefinition');
const isMessageWait = (node) =>
  is(node, 'bpmn:ReceiveTask') || (is(node, 'bpmn:IntermediateCatchEvent') && hasDefinition(node, 'bpmn:MessageEventDefinition'));

// Flows are read from the container (sourceRef / targetRef), not from incoming / outgoing, which
// diagrams made by other tools may leave out.
const flowsInto = (node) => flowElements(node.$parent).filter((e) => is(e, 'bpmn:SequenceFlow') && e.targetRef === node);
const flowsOutOf = (node) => flowElements(node.$parent).filter((e) => is(e, 'bpmn:SequenceFlow') && e.sourceRef === node);

function hasBoundaryTimer(activity) {
  return flowElements(activity.$parent).some(
    (e) => is(e, 'bpmn:BoundaryEvent') && e.attachedToRef === activity && hasDefinition(e, 'bpmn:TimerEventDefinition'),
  );
}

// A timer on an enclosing sub-process also ends (or escalates) a wait inside it.
function enclosedByTimer(node) {
  for (let parent = node.$parent; parent && is(parent, 'bpmn:SubProcess'); parent = parent.$parent) {
    if (hasBoundaryTimer(parent)) return true;
  }
  return false;
}

// (a) A user task shows the person a form or instructions; with neither it is an empty page. Error.
export function userTaskForm() {
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:UserTask')) return;
      if (propertyValue(node, FORM_PROPERTY) || bodyText(node, INSTRUCTIONS).trim()) return;
      reporter.report(node.id, 'User task has no form and no instructions: pick a form or write instructions (Ticketflow group)');
    },
  };
}

function laneMembers(laneSets, into) {
  for (const laneSet of laneSets || []) {
    for (const lane of laneSet.get('lanes') || []) {
      for (const ref of lane.get('flowNodeRef') || []) into.add(ref);
      if (lane.get('childLaneSet')) laneMembers([lane.get('childLaneSet')], into);
    }
  }
  return into;
}

// (a) A user task lies in a lane: the lane names the team whose inbox gets it. Warning (a task in
// no lane is still worked on: it stays open to every agent).
export function userTaskLane() {
  return {
    check(node, reporter) {
      if (!isAny(node, ['bpmn:Process', 'bpmn:SubProcess'])) return;
      const inLane = laneMembers(node.get('laneSets'), new Set());
      const visit = (container, covered) => {
        for (const element of flowElements(container)) {
          const here = covered || inLane.has(element);
          if (is(element, 'bpmn:UserTask') && !here) {
            reporter.report(element.id, "User task is in no lane: no team's inbox gets it (it stays open to every agent)");
          }
          // A sub-process with lanes of its own is checked on its own.
          if (is(element, 'bpmn:SubProcess') && !(element.get('laneSets') || []).length) visit(element, here);
        }
      };
      visit(node, false);
    },
  };
}

// (b) A wait on the customer (a message catch event or receive task) ends some day: a boundary timer
// on it, a timer branch of its event-based gateway, or a timer on an enclosing sub-process. Warning.
export function customerWaitTimeout() {
  const message = 'Waits for a message with no timeout: add a timer (a timer branch or a boundary timer), '
    + 'or a silent customer keeps the ticket open for ever';
  return {
    check(node, reporter) {
      if (is(node, 'bpmn:EventBasedGateway')) {
        const targets = flowsOutOf(node).map((flow) => flow.targetRef).filter(Boolean);
        if (targets.some(isMessageWait) && !targets.some(isTimerCatch) && !enclosedByTimer(node)) {
          reporter.report(node.id, message);
        }
        return;
      }
      if (!isMessageWait(node)) return;
      if (flowsInto(node).some((flow) => flow.sourceRef && is(flow.sourceRef, 'bpmn:EventBasedGateway'))) return;
      if (is(node, 'bpmn:ReceiveTask') && hasBoundaryTimer(node)) return;
      if (!enclosedByTimer(node)) reporter.report(node.id, message);
    },
  };
}

// (c) A service task says how often the worker retries it (spiffworkflow:retry). Warning: without
// one the worker uses the server's defaults.
export function serviceTaskRetry() {
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:ServiceTask')) return;
      const values = (node.get('extensionElements') && node.get('extensionElements').get('values')) || [];
      const operator = values.find((value) => is(value, 'spiffworkflow:ServiceTaskOperator'));
      if (operator && operator.get('retry')) return;
      reporter.report(node.id, "Service task has no retry policy: set Retries (Ticketflow group), or the server's defaults apply");
    },
  };
}
