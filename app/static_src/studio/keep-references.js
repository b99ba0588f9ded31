// A multi-instance task's `loopDataInputRef` / `loopDataOutputRef` naming a process variable (as
// SpiffWorkflow and SpiffArena write them: `<bpmn:loopDataInputRef>input_data</...>`) rather than
// the id of a data object or property. bpmn-js's moddle reads these as references to elements,
// finds none with that id, warns "unresolved reference" and leaves the property empty, so saving
// drops them and the deploy check then refuses the task ("must specify a cardinality or a loop
// input data reference"). This module, on every import, puts a stand-in element carrying only the
// variable's name in their place: the XML writer writes a reference as its target's id, so the
// saved diagram has the name back unchanged. The stand-in is contained nowhere (never written as an
// element of its own) and its warning is removed, since nothing is lost any more.
const KEPT = new Set(['bpmn:loopDataInputRef', 'bpmn:loopDataOutputRef']);

// The references of `event` (bpmn-js's `import.parse.complete`) in `KEPT` that named no element.
function unresolved(event) {
  const { references = [], elementsById = {} } = event;
  return references.filter((r) => KEPT.has(r.property) && !elementsById[r.id] && typeof r.id === 'string');
}

export function keepUnresolvedReferences(event) {
  if (event.error || !event.definitions) return;
  const moddle = event.definitions.$model;
  const kept = new Set();
  for (const reference of unresolved(event)) {
    const standIn = moddle.create('bpmn:ItemAwareElement', { id: reference.id });
    reference.element.set(reference.property, standIn);
    kept.add(reference);
  }
  if (!kept.size || !Array.isArray(event.warnings)) return;
  const keptWarning = (w) => [...kept].some((r) => w.element === r.element && w.property === r.property && w.value === r.id);
  for (let i = event.warnings.length - 1; i >= 0; i -= 1) {
    if (keptWarning(event.warnings[i])) event.warnings.splice(i, 1);
  }
}

function KeepReferences(eventBus) {
  eventBus.on('import.parse.complete', keepUnresolvedReferences);
}
KeepReferences.$inject = ['eventBus'];

// A bpmn-js module: add it to the modeler's and the viewer's `additionalModules`.
export default {
  __init__: ['keepReferences'],
  keepReferences: ['type', KeepReferences],
};
