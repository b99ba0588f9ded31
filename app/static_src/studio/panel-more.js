// More of what Ticketflow reads, each written exactly where the engine (and SpiffArena) reads it:
// - message correlation: bpmn:correlationProperty (one retrieval expression per message, over the
//   payload), the catch side's spiffworkflow:processVariableCorrelation (what this ticket expects),
//   and the collaboration's bpmn:correlationKey (without one SpiffWorkflow uses MainCorrelationKey);
// - the customer-visible status: the `status` parameter of a ticket.set_status service task;
// - the type's SLA targets: spiffworkflow:property `sla.<priority>.<target>` and `sla.team` on the
//   bpmn:process (app/engine/diagrams/sla.py checks them and stores them when the version deploys).
import { createElement as h } from '@bpmn-io/properties-panel/preact';
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { ensureExtension, eventDefinition, extension, propertyValue, removeExtension, setPropertyValue } from './spiff-model.js';

const immediate = (fn) => fn;
const PRIORITIES = ['urgent', 'high', 'normal', 'low'];

// --- correlation --------------------------------------------------------------------------------

function definitionsOf(bo) {
  let node = bo;
  while (node && !is(node, 'bpmn:Definitions')) node = node.$parent;
  return node;
}

function messageOf(element) {
  const definition = eventDefinition(element, 'bpmn:MessageEventDefinition');
  return (definition || getBusinessObject(element)).get('messageRef');
}

function holderOf(element) {
  return eventDefinition(element, 'bpmn:MessageEventDefinition') || getBusinessObject(element);
}

function isCatching(element) {
  return (is(element, 'bpmn:CatchEvent') && !is(element, 'bpmn:StartEvent')) || is(element, 'bpmn:ReceiveTask');
}

function correlationProperties(definitions) {
  return (definitions.get('rootElements') || []).filter((root) => is(root, 'bpmn:CorrelationProperty'));
}

// The correlation property with a retrieval expression for `message`, and that expression.
function retrievalOf(definitions, message) {
  for (const property of correlationProperties(definitions)) {
    const retrieval = property.get('correlationPropertyRetrievalExpression').find((r) => r.get('messageRef') === message);
    if (retrieval) return { property, retrieval };
  }
  return {};
}

function collaborationOf(definitions) {
  return (definitions.get('rootElements') || []).find((root) => is(root, 'bpmn:Collaboration'));
}

function expectation(element) {
  return extension(holderOf(element), 'spiffworkflow:ProcessVariableCorrelation');
}

function keyOf(collaboration, property) {
  return collaboration && property
    ? (collaboration.get('correlationKeys') || []).find((key) => key.get('correlationPropertyRef').includes(property))
    : undefined;
}

function setKey(injector, element, collaboration, property, name) {
  const modeling = injector.get('modeling');
  let keys = collaboration.get('correlationKeys') || [];
  for (const key of keys) {
    if (key.get('correlationPropertyRef').includes(property)) {
      const refs = key.get('correlationPropertyRef').filter((ref) => ref !== property);
      modeling.updateModdleProperties(element, key, { correlationPropertyRef: refs });
    }
  }
  keys = keys.filter((key) => key.get('correlationPropertyRef').length);
  let key = name ? keys.find((k) => k.get('name') === name) : undefined;
  if (name && !key) {
    key = injector.get('bpmnFactory').create('bpmn:CorrelationKey', { name, correlationPropertyRef: [] });
    key.$parent = collaboration;
    keys = [...keys, key];
  }
  modeling.updateModdleProperties(element, collaboration, { correlationKeys: keys });
  if (key) modeling.updateModdleProperties(element, key, { correlationPropertyRef: [...key.get('correlationPropertyRef'), property] });
}

function setExpectation(injector, element, propertyId, expression) {
  const holder = holderOf(element);
  if (!propertyId || !expression) {
    removeExtension(injector, element, holder, 'spiffworkflow:ProcessVariableCorrelation');
    return;
  }
  const factory = injector.get('bpmnFactory');
  const modeling = injector.get('modeling');
  const found = ensureExtension(injector, element, holder, 'spiffworkflow:ProcessVariableCorrelation');
  const id = factory.create('spiffworkflow:PropertyId', { value: propertyId });
  const expr = factory.create('spiffworkflow:Expression', { value: expression });
  id.$parent = found;
  expr.$parent = found;
  modeling.updateModdleProperties(element, found, { propertyId: id, expression: expr });
}

// Move this message's retrieval expression to the property `id` (made when new); a property left
// without any retrieval expression is removed, with its key references.
function setPropertyId(injector, element, id) {
  const modeling = injector.get('modeling');
  const factory = injector.get('bpmnFactory');
  const message = messageOf(element);
  const definitions = definitionsOf(message);
  const collaboration = collaborationOf(definitions);
  const { property: old, retrieval } = retrievalOf(definitions, message);
  const path = retrieval && retrieval.get('messagePath') ? retrieval.get('messagePath').get('body') : '';
  const oldKey = keyOf(collaboration, old);
  if (old) {
    const rest = old.get('correlationPropertyRetrievalExpression').filter((r) => r !== retrieval);
    modeling.updateModdleProperties(element, old, { correlationPropertyRetrievalExpression: rest });
    if (!rest.length) {
      if (collaboration) setKey(injector, element, collaboration, old, '');
      const roots = definitions.get('rootElements').filter((root) => root !== old);
      modeling.updateModdleProperties(element, definitions, { rootElements: roots });
    }
  }
  const expected = expectation(element);
  const expression = expected && expected.get('expression') ? expected.get('expression').get('value') : '';
  if (!id) {
    if (expected) setExpectation(injector, element, '', '');
    return;
  }
  let property = correlationProperties(definitions).find((p) => p.get('id') === id);
  if (!property) {
    property = factory.create('bpmn:CorrelationProperty', { id, name: id, correlationPropertyRetrievalExpression: [] });
    property.$parent = definitions;
    modeling.updateModdleProperties(element, definitions, { rootElements: [...definitions.get('rootElements'), property] });
  }
  const created = factory.create('bpmn:CorrelationPropertyRetrievalExpression', { messageRef: message });
  const formal = factory.create('bpmn:FormalExpression', { body: path || id });
  formal.$parent = created;
  created.messagePath = formal;
  created.$parent = property;
  modeling.updateModdleProperties(element, property, {
    correlationPropertyRetrievalExpression: [...property.get('correlationPropertyRetrievalExpression'), created],
  });
  if (collaboration && oldKey && !keyOf(collaboration, property)) setKey(injector, element, collaboration, property, oldKey.get('name'));
  if (isCatching(element)) setExpectation(injector, element, id, expression || id);
}

function CorrelationField(props) {
  const { element, id, label, description, kind } = props;
  const injector = useService('injector');
  const message = messageOf(element);
  const definitions = definitionsOf(message);
  const current = () => retrievalOf(definitions, message);
  const get = {
    property: () => (current().property ? current().property.get('id') : ''),
    path: () => {
      const { retrieval } = current();
      return retrieval && retrieval.get('messagePath') ? retrieval.get('messagePath').get('body') || '' : '';
    },
    expected: () => {
      const found = expectation(element);
      return found && found.get('expression') ? found.get('expression').get('value') || '' : '';
    },
    key: () => {
      const key = keyOf(collaborationOf(definitions), current().property);
      return key ? key.get('name') || '' : '';
    },
  }[kind];
  const set = {
    property: (value) => setPropertyId(injector, element, (value || '').trim()),
    path: (value) => {
      const { retrieval } = current();
      if (!retrieval) return;
      const modeling = injector.get('modeling');
      if (retrieval.get('messagePath')) modeling.updateModdleProperties(element, retrieval.get('messagePath'), { body: value || '' });
      else {
        const formal = injector.get('bpmnFactory').create('bpmn:FormalExpression', { body: value || '' });
        formal.$parent = retrieval;
        modeling.updateModdleProperties(element, retrieval, { messagePath: formal });
      }
    },
    expected: (value) => {
      const found = expectation(element);
      const known = found && found.get('propertyId') ? found.get('propertyId').get('value') : '';
      setExpectation(injector, element, current().property ? current().property.get('id') : known, value || '');
    },
    key: (value) => {
      const { property } = current();
      if (property) setKey(injector, element, collaborationOf(definitions), property, (value || '').trim());
    },
  }[kind];
  const validate = kind === 'property' || kind === 'key'
    ? (value) => (value && !/^[A-Za-z_][A-Za-z0-9_.\-]*$/.test(value) ? 'letters, digits, _ . - (an id)' : null)
    : undefined;
  return h(TextFieldEntry, { element, id, label, description, debounce: immediate, getValue: get, setValue: set, validate });
}

export function correlationEntries(element) {
  if (!messageOf(element)) return [];
  const entries = [
    {
      id: 'spiff-correlation-property',
      component: CorrelationField,
      kind: 'property',
      label: 'Correlation property',
      description: 'What identifies the ticket a message is for, e.g. order_number (the same id on every message that carries it).',
    },
    {
      id: 'spiff-correlation-path',
      component: CorrelationField,
      kind: 'path',
      label: 'Correlation: value in the message',
      description: 'An expression over the payload giving the property, e.g. order_number or order["number"].',
    },
  ];
  if (isCatching(element)) {
    entries.push({
      id: 'spiff-correlation-expected',
      component: CorrelationField,
      kind: 'expected',
      label: 'Correlation: value this ticket expects',
      description: 'An expression over the process data; a message with another value goes to another ticket.',
    });
  }
  if (collaborationOf(definitionsOf(messageOf(element)))) {
    entries.push({
      id: 'spiff-correlation-key',
      component: CorrelationField,
      kind: 'key',
      label: 'Correlation key',
      description: 'The key (of the collaboration) grouping the properties that must all agree.',
    });
  }
  return entries.map((entry) => ({ isEdited: isTextFieldEntryEdited, ...entry }));
}

// --- customer-visible status --------------------------------------------------------------------

function statusParameter(bo) {
  const operator = extension(bo, 'spiffworkflow:ServiceTaskOperator');
  const list = operator && operator.get('parameterList');
  return list ? list.get('parameters').find((p) => p.get('id') === 'status') : undefined;
}

function StatusSelect(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const catalog = useService('studioCatalog');
  const bo = getBusinessObject(element);
  const literal = () => {
    const parameter = statusParameter(bo);
    const value = (parameter && parameter.get('value')) || '';
    const match = /^\s*["']([A-Za-z_]+)["']\s*$/.exec(value);
    return match ? match[1] : value;
  };
  return h(SelectEntry, {
    element,
    id,
    label: 'Customer-visible status',
    description: 'What the customer sees in the portal from this step on (the status parameter).',
    getValue: literal,
    setValue: (value) => {
      const modeling = injector.get('modeling');
      const operator = extension(bo, 'spiffworkflow:ServiceTaskOperator');
      const parameter = statusParameter(bo);
      const text = value ? `"${value}"` : '';
      if (parameter) {
        modeling.updateModdleProperties(element, parameter, { value: text });
        return;
      }
      if (!value) return;
      const factory = injector.get('bpmnFactory');
      let list = operator.get('parameterList');
      if (!list) {
        list = factory.create('spiffworkflow:Parameters', { parameters: [] });
        list.$parent = operator;
        modeling.updateModdleProperties(element, operator, { parameterList: list });
      }
      const created = factory.create('spiffworkflow:Parameter', { id: 'status', type: 'str', value: text });
      created.$parent = list;
      modeling.updateModdleProperties(element, list, { parameters: [...list.get('parameters'), created] });
    },
    getOptions: () => {
      const values = catalog.statuses();
      const list = [{ value: '', label: '(none)' }, ...values.map((s) => ({ value: s, label: s.replace(/_/g, ' ') }))];
      const current = literal();
      if (current && !values.includes(current)) list.push({ value: current, label: `${current} (an expression)` });
      return list;
    },
  });
}

export function statusEntries(element) {
  const operator = extension(getBusinessObject(element), 'spiffworkflow:ServiceTaskOperator');
  if (!is(element, 'bpmn:ServiceTask') || !operator || operator.get('id') !== 'ticket.set_status') return [];
  return [{ id: 'spiff-status', component: StatusSelect, isEdited: isSelectEntryEdited }];
}

// --- SLA targets of the type --------------------------------------------------------------------

function processOf(element) {
  const bo = getBusinessObject(element);
  if (is(bo, 'bpmn:Process')) return bo;
  if (is(bo, 'bpmn:Participant')) return bo.get('processRef');
  return undefined;
}

function SlaMinutes(props) {
  const { element, id, label, name, description } = props;
  const injector = useService('injector');
  const process = processOf(element);
  return h(TextFieldEntry, {
    element,
    id,
    label,
    description,
    debounce: immediate,
    getValue: () => propertyValue(process, name),
    setValue: (value) => setPropertyValue(injector, element, process, name, (value || '').trim()),
    validate: (value) => (value && !/^\s*[1-9][0-9]{0,5}\s*$/.test(value) ? 'a whole number of business minutes' : null),
  });
}

function SlaTeam(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const catalog = useService('studioCatalog');
  const process = processOf(element);
  return h(SelectEntry, {
    element,
    id,
    label: 'Calendar of the team',
    description: "Whose business hours count (none: Monday to Friday, 9 to 5 UTC).",
    getValue: () => propertyValue(process, 'sla.team'),
    setValue: (value) => setPropertyValue(injector, element, process, 'sla.team', value),
    getOptions: () => {
      const list = [{ value: '', label: '(default calendar)' }, ...catalog.teams().map((t) => ({ value: t.key, label: `${t.name} (${t.key})` }))];
      const current = propertyValue(process, 'sla.team');
      if (current && !list.some((o) => o.value === current)) list.push({ value: current, label: `${current} (unknown)` });
      return list;
    },
  });
}

export function slaGroup(element) {
  if (!processOf(element)) return null;
  const entries = [{ id: 'spiff-sla-team', component: SlaTeam, isEdited: isSelectEntryEdited }];
  for (const priority of PRIORITIES) {
    for (const [target, label] of [
      ['first_response_minutes', 'first response'],
      ['resolution_minutes', 'resolution'],
    ]) {
      entries.push({
        id: `spiff-sla-${priority}-${target}`,
        component: SlaMinutes,
        isEdited: isTextFieldEntryEdited,
        name: `sla.${priority}.${target}`,
        label: `${priority[0].toUpperCase()}${priority.slice(1)}: ${label} (business minutes)`,
        description: priority === 'urgent' && target === 'first_response_minutes' ? 'Empty keeps the current target (docs/sla.md).' : undefined,
      });
    }
  }
  return { id: 'ticketflow-sla', label: 'SLA targets', entries };
}
