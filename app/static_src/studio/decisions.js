// The Decisions tab (its own bundle, loaded by decisions-tab.js when the tab first opens): the
// draft's DMN files edited with the dmn-js modeler (decision tables; the DRD too), "New decision"
// from a small template, deployed decisions copied into the draft, and "Try it", which evaluates
// the table on the server (POST /studio/api/decisions/evaluate) exactly as the engine would.
import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression-controls.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn.css';
import './decisions.css';

import DmnModeler from 'dmn-js/lib/Modeler';

import { api, call, describe, el } from './api.js';
import { decisionInputs, newDecision, parseValue } from './dmn-model.js';

const DMN = (name) => name.endsWith('.dmn');

export function mount(root, state, onChange) {
  const host = root.querySelector('#decisions');
  const files = el('select', { id: 'decision-files', 'aria-label': 'Decision file' });
  const views = el('select', { id: 'decision-views', 'aria-label': 'Decision' });
  const newName = el('input', { id: 'new-decision-name', placeholder: 'discount', 'aria-label': 'New decision id' });
  const message = el('p', { class: 'help', role: 'status' });
  const canvas = el('div', { id: 'dmn-canvas' });
  const tryForm = el('form', { id: 'try-it', class: 'studio-try' });
  const result = el('div', { id: 'try-result', 'aria-live': 'polite' });
  const problemList = el('ul', { id: 'decision-problems', 'aria-live': 'polite' });
  let problems = [];
  host.replaceChildren(
    el(
      'div',
      { class: 'studio-decisions-bar' },
      el('label', { for: 'decision-files', text: 'File' }),
      files,
      el('label', { for: 'decision-views', text: 'Decision' }),
      views,
      newName,
      el('button', { type: 'button', id: 'new-decision', text: 'New decision', onclick: () => create() }),
      message,
    ),
    el('div', { class: 'studio-decisions' }, canvas, el('aside', {}, el('h2', { text: 'Try it' }), tryForm, result)),
    problemList,
  );

  // The deploy checks' problems of the file shown (from the last save or check), by cell.
  function drawProblems() {
    const mine = problems.filter((p) => p.file === current);
    problemList.replaceChildren(
      ...mine.map((p) =>
        el('li', { class: `problem problem-${p.severity}` },
          el('span', { class: `badge ${p.severity === 'error' ? 'breached' : 'at_risk'}`, text: p.severity }), ' ',
          el('code', { text: p.element_id || current }), ` ${p.message}`),
      ),
    );
  }

  // Ticketflow's cells are Python-like expressions for the safe evaluator, not FEEL: the cells then
  // edit as plain text (dmn-js's FEEL editor is CodeMirror, which injects <style> elements the CSP
  // refuses), and nothing writes an expressionLanguage attribute the engine does not read.
  const modeler = new DmnModeler({
    container: canvas,
    common: {
      expressionLanguages: { options: [{ value: 'python', label: 'Python' }], defaults: { editor: 'python' } },
    },
  });
  window.studioDmnModeler = modeler; // for tests and the browser console
  const watched = new WeakSet();
  const changed = new Set();
  let current = null; // the file shown
  let deployed = {}; // decision id -> file name, for deployed decisions not in the draft

  modeler.on('views.changed', ({ activeView }) => {
    const viewer = modeler.getActiveViewer();
    if (viewer && !watched.has(viewer)) {
      watched.add(viewer);
      viewer.on('commandStack.changed', () => {
        changed.add(current);
        onChange();
        clearTimeout(watchTimer);
        watchTimer = setTimeout(refreshTry, 400);
      });
    }
    fillViews(activeView);
    refreshTry();
  });
  let watchTimer = null;

  const draftFiles = () => Object.keys(state.files).filter(DMN).sort();
  const say = (text, kind = 'info') => {
    message.textContent = text;
    message.dataset.kind = kind;
  };

  function fillFiles() {
    const inDraft = new Set();
    for (const name of draftFiles()) {
      const doc = new DOMParser().parseFromString(state.files[name], 'application/xml');
      for (const decision of doc.getElementsByTagNameNS('*', 'decision')) inDraft.add(decision.getAttribute('id'));
    }
    deployed = {};
    for (const id of state.catalog.decisions || []) if (!inDraft.has(id)) deployed[id] = `${id}.dmn`;
    const options = draftFiles().map((name) => el('option', { value: name, text: name, selected: name === current }));
    const others = Object.keys(deployed)
      .filter((id) => !(deployed[id] in state.files))
      .map((id) => el('option', { value: `deployed:${id}`, text: `${id} (deployed: copy into this draft)` }));
    files.replaceChildren(...options, ...(others.length ? [el('optgroup', { label: 'Deployed decisions' }, others)] : []));
    if (!options.length) files.prepend(el('option', { value: '', text: '(no decision in this draft)', selected: true }));
  }

  function fillViews(active) {
    const tables = modeler.getViews().filter((view) => view.type !== 'drd' || modeler.getViews().length > 1);
    views.replaceChildren(
      ...tables.map((view, index) =>
        el('option', {
          value: String(index),
          text: view.type === 'drd' ? 'Diagram (DRD)' : `${view.element.name || view.element.id} (${view.element.id})`,
          selected: active && view.element === active.element,
        }),
      ),
    );
    views.dataset.views = String(tables.length);
    views._views = tables;
  }

  async function collect() {
    if (current && changed.has(current)) {
      const { xml } = await modeler.saveXML({ format: true });
      state.files[current] = xml;
      changed.delete(current);
    }
  }

  async function openFile(name) {
    await collect();
    current = name;
    result.replaceChildren();
    canvas.hidden = !name;
    if (!name) {
      tryForm.replaceChildren(el('p', { class: 'help', text: 'No decision yet: make one with New decision.' }));
      fillFiles();
      return;
    }
    try {
      await modeler.importXML(state.files[name], { open: false });
      const table = modeler.getViews().find((view) => view.type === 'decisionTable') || modeler.getViews()[0];
      await modeler.open(table);
      say('');
    } catch (error) {
      say(`${name} cannot be shown: ${error.message}`, 'error');
    }
    fillFiles();
    drawProblems();
  }

  async function copyDeployed(id) {
    try {
      const answer = await call('GET', `/decisions/${encodeURIComponent(id)}`);
      const name = answer.file && !(answer.file in state.files) ? answer.file : `${id}.dmn`;
      state.files[name] = answer.dmn;
      onChange();
      await openFile(name);
      say(`${name} copied into your draft: it deploys with this type (for every type that uses '${id}').`, 'ok');
    } catch (error) {
      say(`Could not copy '${id}': ${describe(error)}`, 'error');
      fillFiles();
    }
  }

  async function create() {
    const id = newName.value.trim().replace(/\.dmn$/, '');
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(id)) {
      say('A decision id is letters, digits and _ (e.g. discount).', 'error');
      return;
    }
    const name = `${id}.dmn`;
    if (name in state.files) {
      say(`${name} is already in this draft.`, 'error');
      return;
    }
    await collect();
    state.files[name] = newDecision(id, id.replace(/_/g, ' '));
    newName.value = '';
    onChange();
    await openFile(name);
  }

  // The Try it form: one field per input of the table shown, evaluated on the server.
  function activeDecision() {
    const view = modeler.getActiveView();
    return view && view.type !== 'drd' ? view.element.id : null;
  }

  async function refreshTry() {
    if (!current) return;
    await collect();
    const id = activeDecision();
    if (!id) {
      tryForm.replaceChildren(el('p', { class: 'help', text: 'Open a decision table to try it.' }));
      return;
    }
    const inputs = decisionInputs(state.files[current], id);
    const previous = Object.fromEntries([...tryForm.querySelectorAll('input[data-expression]')].map((i) => [i.dataset.expression, i.value]));
    const fields = inputs.map((input, index) =>
      el(
        'div',
        { class: 'studio-try-field' },
        el('label', { for: `try-input-${index}`, text: input.label || input.expression }),
        el('input', {
          id: `try-input-${index}`,
          name: input.expression,
          'data-expression': input.expression,
          'data-type': input.typeRef || '',
          value: previous[input.expression] || '',
          placeholder: input.typeRef || 'value',
        }),
        el('small', {}, el('code', { text: input.expression }), input.typeRef ? ` ${input.typeRef}` : ''),
      ),
    );
    tryForm.replaceChildren(
      ...fields,
      el('label', { for: 'try-more', text: 'Other data (JSON object, optional)' }),
      el('textarea', { id: 'try-more', spellcheck: 'false', placeholder: '{"customer": {"tier": "gold"}}' }),
      el('button', { type: 'submit', class: 'primary', text: 'Evaluate' }),
    );
  }

  function inputsOf() {
    const more = tryForm.querySelector('#try-more');
    const values = {};
    if (more && more.value.trim()) {
      const parsed = JSON.parse(more.value);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('Other data: a JSON object');
      Object.assign(values, parsed);
    }
    for (const input of tryForm.querySelectorAll('input[data-expression]')) {
      const label = tryForm.querySelector(`label[for="${input.id}"]`).textContent;
      const expression = input.dataset.expression;
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(expression)) values[expression] = parseValue(input.value, input.dataset.type, label);
    }
    return values;
  }

  function showRule(ruleId) {
    for (const cell of canvas.querySelectorAll('.studio-matched')) cell.classList.remove('studio-matched');
    if (!ruleId) return;
    for (const cell of canvas.querySelectorAll(`[data-row-id="${CSS.escape(ruleId)}"]`)) cell.classList.add('studio-matched');
  }

  tryForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    await collect();
    showRule(null);
    let values;
    try {
      values = inputsOf();
    } catch (error) {
      result.replaceChildren(el('p', { class: 'error', text: error.message }));
      return;
    }
    try {
      const answer = await api.evaluateDecision(state.files[current], activeDecision(), values);
      if (!answer.outputs) {
        result.replaceChildren(el('p', { class: 'studio-try-none', text: 'No rule matches these inputs.' }));
        return;
      }
      showRule(answer.rule_id);
      result.replaceChildren(
        el('p', { class: 'studio-try-rule' }, 'Matched ', el('strong', { text: answer.rule })),
        el(
          'dl',
          { class: 'studio-try-outputs' },
          Object.entries(answer.outputs).flatMap(([name, value]) => [el('dt', { text: name }), el('dd', {}, el('code', { text: JSON.stringify(value) }))]),
        ),
      );
    } catch (error) {
      const problems = (error.body && error.body.problems) || [];
      result.replaceChildren(
        el('p', { class: 'error', text: describe(error) }),
        ...problems.map((p) => el('p', { class: 'error' }, el('code', { text: p.element_id || '' }), ` ${p.message}`)),
      );
    }
  });

  files.addEventListener('change', () => {
    const value = files.value;
    if (value.startsWith('deployed:')) copyDeployed(value.slice('deployed:'.length));
    else openFile(value);
  });
  views.addEventListener('change', async () => {
    const view = views._views[Number(views.value)];
    if (view) await modeler.open(view);
  });

  return {
    showProblems(list) {
      problems = list || [];
      drawProblems();
    },
    async show() {
      if (current === null || !(current in state.files)) await openFile(draftFiles()[0] || '');
      else fillFiles();
    },
    collect,
    fill() {
      changed.clear();
      current = null;
      if (!root.querySelector('#tab-decisions').hidden) this.show();
    },
  };
}

window.TicketflowDecisions = { mount };
