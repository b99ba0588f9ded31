// The Tests tab: the draft's process tests (<key>.tests.json, docs/process-tests.md) edited as JSON,
// "Run tests" (POST …/tests, run on the server in a transaction that is rolled back), the results
// listed, and one scenario drawn on the diagram: the elements and flows it passed, the element it
// failed at (markers and an overlay, CSS classes only).
import { api, describe, el } from './api.js';
import { jsonEditor } from './codemirror.js';

const MARKERS = ['studio-test-passed', 'studio-test-failed', 'studio-test-flow'];

const template = (key) => ({
  process: key,
  scenarios: [
    {
      name: 'first path',
      start: {},
      tasks: {},
      services: {},
      events: [],
      expect: { status: 'completed' },
    },
  ],
});

export function testsTab(root, key, state, modeler, { onChange, showDiagram }) {
  const fileName = `${key}.tests.json`;
  const editorNode = root.querySelector('#tests-file');
  const runButton = root.querySelector('#run-tests');
  const addButton = root.querySelector('#add-tests');
  const results = root.querySelector('#test-results');
  const summary = root.querySelector('#test-summary');
  let last = null;
  let locked = false; // a version shown read-only: its tests are shown, neither changed nor run
  const editor = jsonEditor(editorNode, {
    labelledBy: 'tests-file-label',
    onChange: (text) => {
      state.files[fileName] = text;
      onChange();
    },
  });

  function fill() {
    const has = fileName in state.files;
    editor.setValue(has ? state.files[fileName] : '');
    addButton.hidden = has;
    editorNode.hidden = !has;
    runButton.disabled = !has || locked;
  }

  addButton.addEventListener('click', () => {
    state.files[fileName] = `${JSON.stringify(template(key), null, 2)}\n`;
    onChange();
    fill();
  });

  function clear() {
    const canvas = modeler.get('canvas');
    modeler.get('elementRegistry').forEach((element) => MARKERS.forEach((m) => canvas.removeMarker(element, m)));
    modeler.get('overlays').remove({ type: 'studio-test' });
    for (const item of results.querySelectorAll('[data-shown]')) item.removeAttribute('data-shown');
  }

  // One scenario on the diagram: what it passed in green, the flows between them, where it failed in red.
  function draw(scenario, focus = false) {
    clear();
    const canvas = modeler.get('canvas');
    const registry = modeler.get('elementRegistry');
    const passed = new Set(scenario.path);
    for (const id of passed) if (registry.get(id)) canvas.addMarker(id, 'studio-test-passed');
    registry.forEach((element) => {
      const bo = element.businessObject;
      if (element.type === 'bpmn:SequenceFlow' && passed.has(bo.sourceRef.id) && passed.has(bo.targetRef.id)) {
        canvas.addMarker(element, 'studio-test-flow');
      }
    });
    const failed = scenario.failed_element && registry.get(scenario.failed_element);
    if (failed) {
      canvas.removeMarker(failed, 'studio-test-passed');
      canvas.addMarker(failed, 'studio-test-failed');
      modeler.get('overlays').add(failed, 'studio-test', {
        position: { bottom: -6, left: 0 },
        html: el('div', { class: 'studio-test-overlay', title: scenario.message, text: `✗ ${scenario.name}` }),
      });
      if (focus) {
        canvas.zoom(1);
        canvas.scrollToElement(failed, { top: 250, bottom: 250, left: 350, right: 350 });
      }
    }
    const item = results.querySelector(`[data-scenario="${CSS.escape(scenario.name)}"]`);
    if (item) item.dataset.shown = 'true';
  }

  function show(result) {
    last = result;
    clear();
    if (!result) {
      summary.textContent = 'No test file: add one to test this process.';
      results.replaceChildren();
      return;
    }
    const { passed, failed } = result.counts;
    summary.textContent = result.problems.length
      ? 'The test file has problems: nothing ran.'
      : `${passed} passed, ${failed} failed.`;
    summary.dataset.kind = result.passed ? 'ok' : 'error';
    results.replaceChildren(
      ...result.problems.map((p) => el('li', { class: 'test-problem' }, el('span', { class: 'badge breached', text: 'error' }), ` ${p.message}`)),
      ...result.scenarios.map((s) =>
        el(
          'li',
          { class: s.passed ? 'test-passed' : 'test-failed', 'data-scenario': s.name },
          el('span', { class: `badge ${s.passed ? 'on_track' : 'breached'}`, text: s.passed ? 'passed' : 'failed' }),
          ' ',
          el('strong', { text: s.name }),
          s.passed ? null : el('span', { class: 'test-where', text: s.failed_element ? ` at ${s.failed_element}` : '' }),
          s.passed ? null : el('p', { class: 'test-message', text: s.message }),
          el('p', { class: 'test-path' }, el('span', { class: 'help', text: 'Path: ' }), s.path.join(' → ') || 'none'),
          el('button', { type: 'button', class: 'studio-small', text: 'Show on diagram', onclick: () => (showDiagram(), draw(s, true)) }),
        ),
      ),
    );
    const first = result.scenarios.find((s) => !s.passed) || result.scenarios[0];
    if (first) draw(first);
  }

  async function run(files) {
    runButton.disabled = true;
    summary.textContent = 'Running the tests…';
    summary.dataset.kind = 'info';
    try {
      const answer = await api.runTests(key, files);
      show(answer.result);
      return answer.result;
    } catch (error) {
      summary.textContent = `Could not run the tests: ${describe(error)}`;
      summary.dataset.kind = 'error';
      return null;
    } finally {
      runButton.disabled = !(fileName in state.files) || locked;
    }
  }

  function setReadOnly(readOnly) {
    locked = readOnly;
    editor.setReadOnly(readOnly);
    addButton.disabled = readOnly;
    fill();
  }

  return { fill, run, show, clear, setReadOnly, last: () => last, runButton };
}
