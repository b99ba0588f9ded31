// Reading and writing the spiffworkflow extension elements of a diagram element through bpmn-js's
// modeling (so every change is undoable and lands in the saved XML).
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

export const FORM_PROPERTY = 'formJsonSchemaFilename';

export function extensions(bo, type) {
  const container = bo && bo.get('extensionElements');
  return container ? container.get('values').filter((value) => is(value, type)) : [];
}

export function extension(bo, type) {
  return extensions(bo, type)[0];
}

function ensureContainer(injector, element, bo) {
  let container = bo.get('extensionElements');
  if (!container) {
    container = injector.get('bpmnFactory').create('bpmn:ExtensionElements', { values: [] });
    container.$parent = bo;
    injector.get('modeling').updateModdleProperties(element, bo, { extensionElements: container });
  }
  return container;
}

export function ensureExtension(injector, element, bo, type, attrs = {}) {
  const existing = extension(bo, type);
  if (existing) return existing;
  const container = ensureContainer(injector, element, bo);
  const created = injector.get('bpmnFactory').create(type, attrs);
  created.$parent = container;
  injector
    .get('modeling')
    .updateModdleProperties(element, container, { values: [...container.get('values'), created] });
  return created;
}

export function removeExtension(injector, element, bo, type) {
  const container = bo.get('extensionElements');
  if (!container) return;
  const values = container.get('values').filter((value) => !is(value, type));
  injector.get('modeling').updateModdleProperties(element, container, { values });
}

// Body elements (<spiffworkflow:instructionsForEndUser>text</...>): the text, or '' when absent.
export function bodyText(bo, type) {
  const found = extension(bo, type);
  return (found && found.get('value')) || '';
}

export function setBodyText(injector, element, bo, type, text) {
  if (!text) {
    removeExtension(injector, element, bo, type);
    return;
  }
  const found = ensureExtension(injector, element, bo, type);
  injector.get('modeling').updateModdleProperties(element, found, { value: text });
}

export function propertyValue(bo, name) {
  for (const properties of extensions(bo, 'spiffworkflow:Properties')) {
    const found = properties.get('properties').find((property) => property.get('name') === name);
    if (found) return found.get('value') || '';
  }
  return '';
}

export function setPropertyValue(injector, element, bo, name, value) {
  const modeling = injector.get('modeling');
  const properties = ensureExtension(injector, element, bo, 'spiffworkflow:Properties');
  const list = properties.get('properties');
  const found = list.find((property) => property.get('name') === name);
  if (!value) {
    if (found) modeling.updateModdleProperties(element, properties, { properties: list.filter((p) => p !== found) });
    return;
  }
  if (found) {
    modeling.updateModdleProperties(element, found, { value });
    return;
  }
  const created = injector.get('bpmnFactory').create('spiffworkflow:Property', { name, value });
  created.$parent = properties;
  modeling.updateModdleProperties(element, properties, { properties: [...list, created] });
}

export function eventDefinition(element, type) {
  const bo = getBusinessObject(element);
  return (bo.get('eventDefinitions') || []).find((definition) => is(definition, type));
}
