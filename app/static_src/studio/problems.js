// The problems of the draft: the server's deploy checks (on load and save) and bpmnlint's (on every
// change, lint/index.js), drawn alike: the list below the canvas, the markers on the elements they
// name, and the Problems group of the properties panel (provider reads `forElement`).
import { el } from './api.js';

export function createProblems() {
  let server = [];
  let lint = [];
  const all = () => [...server, ...lint];
  return {
    all,
    server: () => server,
    set: (problems) => {
      server = problems || [];
    },
    setLint: (problems) => {
      lint = problems || [];
    },
    forElement: (id) => all().filter((problem) => problem.element_id === id),
    hasErrors: () => all().some((problem) => problem.severity === 'error'),
  };
}

const MARKERS = ['studio-error', 'studio-warning'];

export function drawProblems(modeler, store, listNode) {
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  registry.forEach((element) => MARKERS.forEach((marker) => canvas.removeMarker(element, marker)));
  const worst = new Set(store.all().filter((p) => p.severity === 'error').map((p) => p.element_id));
  const items = store.all().map((problem) => {
    const target = problem.element_id && registry.get(problem.element_id);
    // One marker per element, its worst problem's (an error's red is not hidden by a warning).
    if (target) canvas.addMarker(target, worst.has(problem.element_id) ? 'studio-error' : `studio-${problem.severity}`);
    const where = problem.element_id || problem.file || 'diagram';
    return el(
      'li',
      { class: `problem problem-${problem.severity}`, 'data-element': problem.element_id || null, 'data-rule': problem.rule || null },
      el('span', { class: `badge ${problem.severity === 'error' ? 'breached' : 'at_risk'}`, text: problem.severity }),
      ' ',
      target ? el('button', { type: 'button', class: 'link-button', text: where, onclick: () => select(modeler, target) }) : el('code', { text: where }),
      ` ${problem.message}`,
      problem.rule ? el('span', { class: 'problem-rule', text: ` (bpmnlint: ${problem.rule})` }) : null,
    );
  });
  listNode.replaceChildren(...(items.length ? items : [el('li', { class: 'problem-none', text: 'No problems.' })]));
  modeler.get('eventBus').fire('propertiesPanel.providersChanged');
}

function select(modeler, element) {
  const canvas = modeler.get('canvas');
  modeler.get('selection').select(element);
  if (canvas.zoom() < 0.9) canvas.zoom(1);
  canvas.scrollToElement(element, { top: 150, bottom: 150, left: 250, right: 150 });
}
