// bpmnlint for the studio: the recommended rule set of bpmnlint (pinned by package-lock.json) and
// our service-work plugin (rules.js), compiled by hand into the {config, resolver} bpmn-js-bpmnlint
// takes. bpmnlint's own loaders are for webpack and rollup; with esbuild the resolver is a static
// map of the rules and configs we import here.
import recommended from 'bpmnlint/config/recommended';
import adHocSubProcess from 'bpmnlint/rules/ad-hoc-sub-process';
import conditionalFlows from 'bpmnlint/rules/conditional-flows';
import endEventRequired from 'bpmnlint/rules/end-event-required';
import eventBasedGateway from 'bpmnlint/rules/event-based-gateway';
import eventSubProcessTypedStartEvent from 'bpmnlint/rules/event-sub-process-typed-start-event';
import fakeJoin from 'bpmnlint/rules/fake-join';
import global from 'bpmnlint/rules/global';
import labelRequired from 'bpmnlint/rules/label-required';
import linkEvent from 'bpmnlint/rules/link-event';
import noBpmndi from 'bpmnlint/rules/no-bpmndi';
import noComplexGateway from 'bpmnlint/rules/no-complex-gateway';
import noDisconnected from 'bpmnlint/rules/no-disconnected';
import noDuplicateSequenceFlows from 'bpmnlint/rules/no-duplicate-sequence-flows';
import noGatewayJoinFork from 'bpmnlint/rules/no-gateway-join-fork';
import noImplicitEnd from 'bpmnlint/rules/no-implicit-end';
import noImplicitSplit from 'bpmnlint/rules/no-implicit-split';
import noImplicitStart from 'bpmnlint/rules/no-implicit-start';
import noInclusiveGateway from 'bpmnlint/rules/no-inclusive-gateway';
import noOverlappingElements from 'bpmnlint/rules/no-overlapping-elements';
import singleBlankStartEvent from 'bpmnlint/rules/single-blank-start-event';
import singleEventDefinition from 'bpmnlint/rules/single-event-definition';
import startEventRequired from 'bpmnlint/rules/start-event-required';
import subProcessBlankStartEvent from 'bpmnlint/rules/sub-process-blank-start-event';
import superfluousGateway from 'bpmnlint/rules/superfluous-gateway';
import superfluousLabel from 'bpmnlint/rules/superfluous-label';
import superfluousTermination from 'bpmnlint/rules/superfluous-termination';

import { customerWaitTimeout, serviceTaskRetry, userTaskForm, userTaskLane } from './rules.js';

const PLUGIN = 'bpmnlint-plugin-ticketflow';

const RULES = {
  bpmnlint: {
    'ad-hoc-sub-process': adHocSubProcess,
    'conditional-flows': conditionalFlows,
    'end-event-required': endEventRequired,
    'event-based-gateway': eventBasedGateway,
    'event-sub-process-typed-start-event': eventSubProcessTypedStartEvent,
    'fake-join': fakeJoin,
    global,
    'label-required': labelRequired,
    'link-event': linkEvent,
    'no-bpmndi': noBpmndi,
    'no-complex-gateway': noComplexGateway,
    'no-disconnected': noDisconnected,
    'no-duplicate-sequence-flows': noDuplicateSequenceFlows,
    'no-gateway-join-fork': noGatewayJoinFork,
    'no-implicit-end': noImplicitEnd,
    'no-implicit-split': noImplicitSplit,
    'no-implicit-start': noImplicitStart,
    'no-inclusive-gateway': noInclusiveGateway,
    'no-overlapping-elements': noOverlappingElements,
    'single-blank-start-event': singleBlankStartEvent,
    'single-event-definition': singleEventDefinition,
    'start-event-required': startEventRequired,
    'sub-process-blank-start-event': subProcessBlankStartEvent,
    'superfluous-gateway': superfluousGateway,
    'superfluous-label': superfluousLabel,
    'superfluous-termination': superfluousTermination,
  },
  [PLUGIN]: {
    'user-task-form': userTaskForm,
    'user-task-lane': userTaskLane,
    'customer-wait-timeout': customerWaitTimeout,
    'service-task-retry': serviceTaskRetry,
  },
};

const CONFIGS = {
  bpmnlint: { recommended },
  [PLUGIN]: {
    recommended: {
      rules: {
        // A user task with neither form nor instructions is an empty page for the agent.
        'user-task-form': 'error',
        // The rest are advice: the engine runs without them (defaults, every agent, no end).
        'user-task-lane': 'warn',
        'customer-wait-timeout': 'warn',
        'service-task-retry': 'warn',
      },
    },
  },
};

export const resolver = {
  resolveRule: (pkg, ruleName) => (RULES[pkg] && RULES[pkg][ruleName]) || null,
  resolveConfig: (pkg, configName) => (CONFIGS[pkg] && CONFIGS[pkg][configName]) || null,
};

export const config = {
  extends: ['bpmnlint:recommended', 'plugin:ticketflow/recommended'],
  rules: {
    // Names are for people: SpiffArena and Camunda Modeler leave start and end events and joins
    // unnamed (most of the foreign corpus would not deploy), and the engine needs none. Advice.
    'label-required': 'warn',
    // Diagrams written by code (engine test suites) have no layout; the engine runs them, the
    // studio cannot draw the elements concerned. Advice, not a reason to refuse a deploy.
    'no-bpmndi': 'warn',
    // Ticketflow's own diagrams name a plain flow where a path comes back ("Review again",
    // "Escalate"): it reads better on the canvas. Off, so the shipped diagrams open clean.
    'superfluous-label': 'off',
  },
};

export default { config, resolver };
