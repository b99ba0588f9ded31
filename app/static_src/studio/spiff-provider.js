// Our properties provider: the groups Ticketflow reads, in the spiffworkflow namespace, built from
// @bpmn-io/properties-panel entries (no JSX: preact's createElement).
import { createElement as h } from '@bpmn-io/properties-panel/preact';
import {
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';
import {
  FORM_PROPERTY,
  bodyText,
  ensureExtension,
  eventDefinition,
  extension,
  propertyValue,
  setBodyText,
  setPropertyValue,
} from './spiff-model.js';
import { ProblemEntry, TimerPreview, timerTarget } from './panel-extras.js';
import { InstructionsPreview } from './instructions-preview.js';
import { correlationEntries, slaGroup, statusEntries } from './panel-more.js';

const NONE = { value: '', label: '(none)' };

// Our entries write on every input, not debounced: a debounced write landing after the analyst
// selected another element would bring the panel back to the element written.
const immediate = (fn) => fn;

function options(values, current) {
  const list = [NONE, ...values.map((v) => (typeof v === 'string' ? { value: v, label: v } : v))];
  if (current && !list.some((o) => o.value === current)) list.push({ value: current, label: `${current} (unknown)` });
  return list;
}

// --- generic entry components -------------------------------------------------------------------

function BodyTextArea(props) {
  const { element, id, label, type, target, description } = props;
  const injector = useService('injector');
  const debounce = immediate;
  const bo = target(element);
  return h(TextAreaEntry, {
    element,
    id,
    label,
    description,
    debounce,
    rows: 4,
    getValue: () => bodyText(bo, type),
    setValue: (value) => setBodyText(injector, element, bo, type, value),
  });
}

function FormSelect(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const catalog = useService('studioCatalog');
  const bo = getBusinessObject(element);
  return h(SelectEntry, {
    element,
    id,
    label: 'Form',
    description: 'The JSON Schema form the person fills in (create one in the Forms tab).',
    getValue: () => propertyValue(bo, FORM_PROPERTY),
    setValue: (value) => setPropertyValue(injector, element, bo, FORM_PROPERTY, value),
    getOptions: () => options(catalog.formNames(), propertyValue(bo, FORM_PROPERTY)),
  });
}

function operatorOf(bo) {
  return extension(bo, 'spiffworkflow:ServiceTaskOperator');
}

function OperatorSelect(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const catalog = useService('studioCatalog');
  const bo = getBusinessObject(element);
  return h(SelectEntry, {
    element,
    id,
    label: 'Operator',
    description: "The handler this server runs for the task (from this server's registry).",
    getValue: () => (operatorOf(bo) && operatorOf(bo).get('id')) || '',
    setValue: (value) => {
      const operator = ensureExtension(injector, element, bo, 'spiffworkflow:ServiceTaskOperator');
      injector.get('modeling').updateModdleProperties(element, operator, { id: value || undefined });
    },
    getOptions: () =>
      options(
        catalog.operators().map((o) => o.name),
        operatorOf(bo) && operatorOf(bo).get('id'),
      ),
  });
}

function OperatorAttr(props) {
  const { element, id, label, attr, target, description } = props;
  const injector = useService('injector');
  const debounce = immediate;
  const bo = getBusinessObject(element);
  return h(TextFieldEntry, {
    element,
    id,
    label,
    description,
    debounce,
    getValue: () => {
      const node = target(bo);
      return (node && node.get(attr)) || '';
    },
    setValue: (value) => {
      const operator = ensureExtension(injector, element, bo, 'spiffworkflow:ServiceTaskOperator');
      let node = operator;
      if (target(bo) !== operator) node = target(bo) || createChild(injector, element, operator, 'retry', 'spiffworkflow:Retry');
      injector.get('modeling').updateModdleProperties(element, node, { [attr]: value || undefined });
    },
  });
}

function createChild(injector, element, parent, property, type) {
  const child = injector.get('bpmnFactory').create(type, {});
  child.$parent = parent;
  injector.get('modeling').updateModdleProperties(element, parent, { [property]: child });
  return child;
}

function ParameterField(props) {
  const { element, id, parameter } = props;
  const injector = useService('injector');
  const debounce = immediate;
  const bo = getBusinessObject(element);
  const find = () => {
    const operator = operatorOf(bo);
    const list = operator && operator.get('parameterList');
    return list ? list.get('parameters').find((p) => p.get('id') === parameter.name) : undefined;
  };
  return h(TextFieldEntry, {
    element,
    id,
    label: `${parameter.name} (${parameter.type}${parameter.required ? ', required' : ''})`,
    description: 'An expression, e.g. "text" in quotes or a variable name.',
    debounce,
    getValue: () => (find() && find().get('value')) || '',
    setValue: (value) => {
      const modeling = injector.get('modeling');
      const operator = ensureExtension(injector, element, bo, 'spiffworkflow:ServiceTaskOperator');
      const list =
        operator.get('parameterList') ||
        createChild(injector, element, operator, 'parameterList', 'spiffworkflow:Parameters');
      const existing = find();
      if (existing) {
        modeling.updateModdleProperties(element, existing, { value });
        return;
      }
      const created = injector
        .get('bpmnFactory')
        .create('spiffworkflow:Parameter', { id: parameter.name, type: parameter.type, value });
      created.$parent = list;
      modeling.updateModdleProperties(element, list, { parameters: [...list.get('parameters'), created] });
    },
  });
}

function BpmnText(props) {
  const { element, id, label, target, attr, area, description } = props;
  const modeling = useService('modeling');
  const debounce = immediate;
  return h(area ? TextAreaEntry : TextFieldEntry, {
    element,
    id,
    label,
    description,
    debounce,
    rows: area ? 5 : undefined,
    getValue: () => {
      const node = target(element);
      return (node && node.get(attr)) || '';
    },
    setValue: (value) => {
      const node = target(element);
      if (node) modeling.updateModdleProperties(element, node, { [attr]: value || undefined });
    },
  });
}

function TeamSelect(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const catalog = useService('studioCatalog');
  const bo = getBusinessObject(element);
  return h(SelectEntry, {
    element,
    id,
    label: 'Team',
    description: "The team whose inbox gets this lane's tasks (the lane's name is the team key).",
    getValue: () => bo.get('name') || '',
    setValue: (value) => modeling.updateProperties(element, { name: value }),
    getOptions: () =>
      options(
        catalog.teams().map((t) => ({ value: t.key, label: `${t.name} (${t.key})` })),
        bo.get('name'),
      ),
  });
}

function DecisionSelect(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const catalog = useService('studioCatalog');
  const bo = getBusinessObject(element);
  return h(SelectEntry, {
    element,
    id,
    label: 'Decision',
    getValue: () => bodyText(bo, 'spiffworkflow:CalledDecisionId'),
    setValue: (value) => setBodyText(injector, element, bo, 'spiffworkflow:CalledDecisionId', value),
    getOptions: () => options(catalog.decisions(), bodyText(bo, 'spiffworkflow:CalledDecisionId')),
  });
}

// --- groups ---------------------------------------------------------------------------------------

const self = (element) => getBusinessObject(element);

function entry(id, component, extra = {}, isEdited = isTextFieldEntryEdited) {
  return { id, component, isEdited, ...extra };
}

function messageRef(element) {
  const bo = getBusinessObject(element);
  const definition = eventDefinition(element, 'bpmn:MessageEventDefinition');
  return (definition || bo).get('messageRef');
}

function messageHolder(element) {
  return eventDefinition(element, 'bpmn:MessageEventDefinition') || getBusinessObject(element);
}

function isMessaging(element) {
  return (
    is(element, 'bpmn:ReceiveTask') ||
    is(element, 'bpmn:SendTask') ||
    Boolean(eventDefinition(element, 'bpmn:MessageEventDefinition'))
  );
}

function operatorParameters(element, catalog) {
  const operator = operatorOf(getBusinessObject(element));
  if (!operator) return [];
  const known = catalog.operators().find((o) => o.name === operator.get('id'));
  const list = [...((known && known.parameters) || [])];
  const present = operator.get('parameterList') ? operator.get('parameterList').get('parameters') : [];
  for (const parameter of present) {
    if (!list.some((p) => p.name === parameter.get('id'))) {
      list.push({ name: parameter.get('id'), type: parameter.get('type') || 'any', required: false });
    }
  }
  return list;
}

function ticketflowEntries(element, catalog) {
  const entries = [];
  if (is(element, 'bpmn:UserTask') || is(element, 'bpmn:StartEvent') && !getBusinessObject(element).get('eventDefinitions').length) {
    entries.push(entry('spiff-form', FormSelect, {}, isSelectEntryEdited));
  }
  if (is(element, 'bpmn:UserTask') || is(element, 'bpmn:ManualTask')) {
    entries.push(
      entry('spiff-instructions', BodyTextArea, {
        label: 'Instructions for the person',
        description: 'Markdown with {{ variables }} (Jinja), shown above the form; Preview shows it as the agent will.',
        type: 'spiffworkflow:InstructionsForEndUser',
        target: self,
      }, isTextAreaEntryEdited),
      { id: 'spiff-instructions-preview', component: InstructionsPreview },
    );
  }
  if (is(element, 'bpmn:ServiceTask')) {
    entries.push(entry('spiff-operator', OperatorSelect, {}, isSelectEntryEdited), ...statusEntries(element));
    entries.push(
      ...operatorParameters(element, catalog).map((parameter) =>
        entry(`spiff-param-${parameter.name}`, ParameterField, { parameter }),
      ),
      entry('spiff-result', OperatorAttr, {
        label: 'Result variable',
        attr: 'resultVariable',
        target: (bo) => operatorOf(bo),
      }),
      entry('spiff-retries', OperatorAttr, {
        label: 'Retries',
        attr: 'retries',
        description: 'How many times the worker retries a failing call.',
        target: (bo) => operatorOf(bo) && operatorOf(bo).get('retry'),
      }),
      entry('spiff-backoff', OperatorAttr, {
        label: 'Backoff base (seconds)',
        attr: 'backoff_base',
        target: (bo) => operatorOf(bo) && operatorOf(bo).get('retry'),
      }),
    );
  }
  if (is(element, 'bpmn:ScriptTask')) {
    entries.push(entry('spiff-script', BpmnText, { label: 'Script (Python)', target: self, attr: 'script', area: true }, isTextAreaEntryEdited));
  }
  if (is(element, 'bpmn:Task') || is(element, 'bpmn:SubProcess') || is(element, 'bpmn:CallActivity')) {
    for (const [id, label, type] of [
      ['spiff-prescript', 'Pre-script', 'spiffworkflow:PreScript'],
      ['spiff-postscript', 'Post-script', 'spiffworkflow:PostScript'],
    ]) {
      entries.push(entry(id, BodyTextArea, { label, type, target: self }, isTextAreaEntryEdited));
    }
  }
  if (is(element, 'bpmn:BusinessRuleTask')) {
    entries.push(entry('spiff-decision', DecisionSelect, {}, isSelectEntryEdited));
  }
  if (isMessaging(element)) {
    entries.push(
      entry('spiff-message-name', BpmnText, { label: 'Message name', target: messageRef, attr: 'name' }),
      entry('spiff-message-variable', BodyTextArea, {
        label: 'Message variable',
        description: 'Where the received payload is stored.',
        type: 'spiffworkflow:MessageVariable',
        target: messageHolder,
      }, isTextAreaEntryEdited),
      entry('spiff-message-payload', BodyTextArea, {
        label: 'Message payload',
        description: 'An expression for what a throw event or send task sends.',
        type: 'spiffworkflow:MessagePayload',
        target: messageHolder,
      }, isTextAreaEntryEdited),
      ...correlationEntries(element),
    );
  }
  if (eventDefinition(element, 'bpmn:TimerEventDefinition')) {
    entries.push(
      entry('spiff-timer', BpmnText, {
        label: 'Timer expression',
        description: 'An expression giving an ISO 8601 duration ("P3D"), date or cycle.',
        target: timerTarget,
        attr: 'body',
      }),
      { id: 'spiff-timer-preview', component: TimerPreview },
    );
  }
  if (is(element, 'bpmn:Lane')) {
    entries.push(entry('spiff-team', TeamSelect, {}, isSelectEntryEdited));
  }
  return entries;
}

export default function SpiffPropertiesProvider(propertiesPanel, studioProblems, studioCatalog) {
  this.getGroups = function (element) {
    return function (groups) {
      const problems = studioProblems.forElement(element.id);
      if (problems.length) {
        groups.unshift({
          id: 'studio-problems',
          label: `Problems (${problems.length})`,
          entries: problems.map((problem, index) => ({ id: `studio-problem-${index}`, component: ProblemEntry, problem })),
        });
      }
      const entries = ticketflowEntries(element, studioCatalog);
      if (entries.length) {
        const at = groups.findIndex((group) => group.id === 'general');
        groups.splice(at + 1, 0, { id: 'ticketflow', label: 'Ticketflow', entries });
      }
      const sla = slaGroup(element);
      if (sla) groups.splice(groups.findIndex((group) => group.id === 'general') + 1, 0, sla);
      return groups;
    };
  };
  propertiesPanel.registerProvider(500, this);
}

SpiffPropertiesProvider.$inject = ['propertiesPanel', 'studioProblems', 'studioCatalog'];
