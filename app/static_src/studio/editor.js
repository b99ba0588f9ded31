// The studio's editor page: bpmn-js modeler with the properties panel (our spiffworkflow moddle and
// provider), problems as markers, save / deploy (its process tests first), the Forms, Tests and
// Versions tabs.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import './studio.css';

import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import { api, describe, el } from './api.js';
import { decisionsTab } from './decisions-tab.js';
import { importFiles } from './import.js';
import KeepReferences from './keep-references.js';
import { formsTab, isFormFile } from './forms.js';
import { lintModules, lintOptions, watchLint } from './lint/index.js';
import { migratePanel } from './migrate.js';
import { createProblems, drawProblems } from './problems.js';
import { readonlyMode } from './readonly.js';
import SpiffPropertiesProvider from './spiff-provider.js';
import spiffworkflow from './spiffworkflow.json';
import { testsTab } from './tests.js';
import { versionsTab } from './versions.js';

function catalogService(state) {
  return {
    formNames: () =>
      [...new Set([...(state.catalog.forms || []), ...Object.keys(state.files).filter(isFormFile)])].sort(),
    operators: () => state.catalog.operators || [],
    teams: () => state.catalog.teams || [],
    decisions: () => state.catalog.decisions || [],
    statuses: () => state.catalog.statuses || [],
  };
}

async function main(root) {
  const key = root.dataset.key;
  const diagramName = `${key}.bpmn`;
  const status = root.querySelector('#status');
  const saveButton = root.querySelector('#save');
  const deployButton = root.querySelector('#deploy');
  const problemsList = root.querySelector('#problems');
  const state = { files: {}, catalog: {}, dirty: false, saved: false, baseVersion: null };
  const problems = createProblems();

  const say = (text, kind = 'info') => {
    status.textContent = text;
    status.dataset.kind = kind;
  };

  const modeler = new BpmnModeler({
    container: root.querySelector('#canvas'),
    propertiesPanel: {
      parent: root.querySelector('#properties'),
      layout: { groups: { ticketflow: { open: true }, 'ticketflow-sla': { open: true }, 'studio-problems': { open: true } } },
    },
    linting: lintOptions,
    additionalModules: [
      ...lintModules,
      KeepReferences,
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      {
        __init__: ['spiffPropertiesProvider'],
        spiffPropertiesProvider: ['type', SpiffPropertiesProvider],
        studioCatalog: ['value', catalogService(state)],
        studioProblems: ['value', problems],
      },
    ],
    moddleExtensions: { spiffworkflow },
  });
  window.studioModeler = modeler; // for tests and the browser console

  const refreshDeploy = () => {
    deployButton.disabled = problems.hasErrors();
    deployButton.title = problems.hasErrors() ? 'Fix the errors first' : '';
  };
  const markDirty = () => {
    state.dirty = true;
    saveButton.classList.add('primary');
  };
  modeler.on('commandStack.changed', markDirty);

  const showProblems = (list) => {
    problems.set(list);
    drawProblems(modeler, problems, problemsList);
    decisions.showProblems(problems.all());
    refreshDeploy();
  };
  watchLint(modeler, diagramName, (list) => {
    problems.setLint(list);
    showProblems(problems.server());
  });

  async function collectFiles() {
    const { xml } = await modeler.saveXML({ format: true });
    state.files[diagramName] = xml;
    await decisions.collect();
    return state.files;
  }

  async function save() {
    say('Saving…');
    try {
      const answer = await api.save(key, await collectFiles());
      state.dirty = false;
      saveButton.classList.remove('primary');
      showDraftState(true);
      showProblems(answer.problems);
      const errors = answer.problems.filter((p) => p.severity === 'error').length;
      say(errors ? `Saved, with ${errors} error(s) to fix before deploying.` : 'Saved.', errors ? 'warn' : 'ok');
      return true;
    } catch (error) {
      if (error.body && error.body.problems) showProblems(error.body.problems);
      say(`Not saved: ${describe(error)}`, 'error');
      return false;
    }
  }

  // A hidden canvas has no size to fit: fit when the Diagram tab shows again.
  let fitPending = false;
  function fitDiagram() {
    const container = root.querySelector('#canvas');
    fitPending = !container.offsetWidth;
    if (fitPending) return;
    const canvas = modeler.get('canvas');
    canvas.resized();
    canvas.zoom('fit-viewport');
  }

  // The server keeps the draft: the badge says whether the analyst has one and what it came from.
  function showDraftState(saved) {
    state.saved = saved;
    root.querySelector('#draft-state').textContent = saved
      ? `Your draft${state.baseVersion ? ` (from version ${state.baseVersion})` : ''}`
      : state.baseVersion
        ? `Version ${state.baseVersion} (no draft yet)`
        : 'New type';
  }

  // The server diffs against the saved draft: save what the canvas shows first.
  const saveFirst = async () => (state.dirty || !state.saved ? save() : true);

  const forms = formsTab(root, state, markDirty);
  const showDiagram = () => root.querySelector('#tab-diagram-button').click();
  const tests = testsTab(root, key, state, modeler, { onChange: markDirty, showDiagram });
  tests.runButton.addEventListener('click', async () => tests.run(await collectFiles()));
  const decisions = decisionsTab(root, state, markDirty, say);
  const migrate = migratePanel(root, key, { say, refresh: () => versions.refresh() });
  const versions = versionsTab(root, key, modeler, {
    onVersions: migrate.fill,
    reload: load,
    say,
    saveFirst: async () => readonly.close() || saveFirst(), // a diff compares the draft, shown again
    open: (version) => readonly.open(version),
  });
  const readonly = readonlyMode(root, key, { state, forms, tests, say, restore: versions.restore });

  async function load() {
    const draft = await api.draft(key);
    state.files = { ...draft.files };
    if (!(diagramName in state.files)) throw new Error(`the draft has no ${diagramName}`);
    const { warnings } = await modeler.importXML(state.files[diagramName]);
    if (warnings.length) console.warn('import warnings', warnings.map((w) => w.message));
    fitDiagram();
    state.dirty = false;
    forms.fill();
    decisions.fill();
    tests.fill();
    tests.show(null);
    state.baseVersion = draft.base_version;
    showDraftState(draft.saved);
    const checked = await api.check(key, state.files);
    showProblems(checked.problems);
    say('');
  }

  saveButton.addEventListener('click', save);
  importFiles(root, { state, modeler, diagramName, markDirty, say, refresh: () => (fitDiagram(), forms.fill(), decisions.fill(), tests.fill()) });
  root.querySelector('#discard').addEventListener('click', async () => {
    if (!window.confirm('Discard your draft and go back to the deployed version?')) return;
    try {
      await api.discard(key);
      await load();
      say('Draft discarded.', 'ok');
    } catch (error) {
      say(`Not discarded: ${describe(error)}`, 'error');
    }
  });

  const dialog = root.querySelector('#deploy-dialog');
  const testsWarning = dialog.querySelector('#deploy-tests');
  const override = dialog.querySelector('#deploy-override');
  const resetOverride = () => {
    testsWarning.hidden = true;
    override.checked = false;
  };
  deployButton.addEventListener('click', () => {
    dialog.querySelector('[role=alert]').textContent = '';
    resetOverride();
    dialog.showModal();
  });
  dialog.querySelector('.cancel').addEventListener('click', () => dialog.close());
  const testsNote = (result) =>
    result ? ` Process tests: ${result.counts.passed} passed, ${result.counts.failed} failed${result.passed ? '' : ' (deployed anyway, recorded)'}.` : '';
  dialog.querySelector('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const comment = dialog.querySelector('textarea').value.trim();
    if (!comment) {
      dialog.querySelector('[role=alert]').textContent = 'Say what changed (the comment goes in the version list).';
      return;
    }
    const overriding = !testsWarning.hidden && override.checked;
    dialog.close();
    if (!(await save()) || problems.hasErrors()) return;
    say(`${key}.tests.json` in state.files ? 'Running the process tests, then deploying…' : 'Deploying…');
    try {
      const answer = await api.deploy(key, comment, overriding);
      if (answer.tests) tests.show(answer.tests);
      const done = answer.unchanged ? `Unchanged: version ${answer.version} is already live.` : `Deployed version ${answer.version}.`;
      say(done + testsNote(answer.tests), 'ok');
      dialog.querySelector('textarea').value = '';
      resetOverride();
      state.baseVersion = answer.version;
      showDraftState(false); // the server removes the draft once deployed
      versions.refresh();
    } catch (error) {
      if (error.body && error.body.problems) showProblems(error.body.problems);
      if (error.body && error.body.tests) {
        // A failing test blocks the deploy: show where on the diagram, and offer the override.
        tests.show(error.body.tests);
        dialog.querySelector('#deploy-tests-message').textContent = error.message;
        testsWarning.hidden = false;
        dialog.querySelector('[role=alert]').textContent = '';
        dialog.showModal();
      }
      say(`Not deployed: ${describe(error)}`, 'error');
    }
  });

  for (const tab of root.querySelectorAll('[role=tab]')) {
    tab.addEventListener('click', () => {
      for (const other of root.querySelectorAll('[role=tab]')) {
        const selected = other === tab;
        other.setAttribute('aria-selected', String(selected));
        root.querySelector(`#${other.getAttribute('aria-controls')}`).hidden = !selected;
      }
      if (tab.id === 'tab-diagram-button' && fitPending) fitDiagram();
      if (tab.id === 'tab-forms-button') forms.refresh();
      if (tab.id === 'tab-versions-button') versions.refresh();
      if (tab.id === 'tab-tests-button') tests.fill();
      if (tab.id === 'tab-decisions-button') decisions.open();
    });
  }

  window.addEventListener('beforeunload', (event) => {
    if (state.dirty) event.preventDefault();
  });

  try {
    [state.catalog] = await Promise.all([api.catalog()]);
    await load();
    root.dataset.ready = 'true';
  } catch (error) {
    say(`Could not open ${key}: ${describe(error)}`, 'error');
    root.dataset.ready = 'error';
  }
}

const root = document.getElementById('studio-editor');
if (root) main(root);
