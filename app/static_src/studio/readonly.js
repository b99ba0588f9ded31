// An old version opened read-only (Versions tab → Open): its diagram in a bpmn-js viewer in place of
// the modeler (no palette, no context pad, no properties panel, nothing to edit), its forms shown
// read-only in the Forms tab, a banner "Version N, read-only — Back to draft / Restore as draft",
// and Save / Deploy / Discard off until the analyst goes back to the draft.
import './readonly.css';

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import { api, describe, el } from './api.js';
import KeepReferences from './keep-references.js';
import spiffworkflow from './spiffworkflow.json';

const TOOLBAR = ['#save', '#deploy', '#discard'];

export function readonlyMode(root, key, { state, forms, tests, say, restore }) {
  const workspace = root.querySelector('.studio-workspace');
  const problems = [root.querySelector('#problems')];
  const heading = problems[0].previousElementSibling;
  if (heading && heading.tagName === 'H2') problems.push(heading); // the list and its heading
  const title = el('strong', {});
  const banner = el(
    'div',
    { id: 'readonly-banner', class: 'studio-readonly', role: 'status', hidden: true },
    el('span', {}, title, ', read-only —'),
    el('button', { type: 'button', id: 'readonly-back', text: 'Back to draft', onclick: () => close() }),
    el('button', { type: 'button', id: 'readonly-restore', text: 'Restore as draft', onclick: () => restoreShown() }),
  );
  const container = el('div', { id: 'readonly-canvas', hidden: true });
  workspace.before(banner);
  workspace.after(container);
  let viewer = null;
  let shown = null; // {version, draftFiles, toolbar: [disabled...]}

  function showDiagramTab() {
    root.querySelector('#tab-diagram-button').click();
  }

  async function open(version) {
    let answer;
    try {
      if (state.dirty && !shown) say('Your draft has unsaved changes: they stay on the canvas for when you come back.');
      answer = await api.version(key, version);
    } catch (error) {
      say(`Could not open version ${version}: ${describe(error)}`, 'error');
      return;
    }
    const xml = answer.files[`${key}.bpmn`];
    if (!shown) {
      shown = { draftFiles: state.files, toolbar: TOOLBAR.map((s) => root.querySelector(s).disabled) };
    }
    shown.version = version;
    state.files = { ...answer.files };
    root.dataset.readonly = String(version);
    title.textContent = `Version ${version}`;
    for (const selector of TOOLBAR) root.querySelector(selector).disabled = true;
    banner.hidden = false;
    workspace.hidden = true;
    problems.forEach((node) => { node.hidden = true; });
    container.hidden = false;
    showDiagramTab();
    viewer = viewer || new NavigatedViewer({ container, additionalModules: [KeepReferences], moddleExtensions: { spiffworkflow } });
    await viewer.importXML(xml);
    viewer.get('canvas').zoom('fit-viewport');
    forms.fill();
    forms.setReadOnly(true);
    if (tests) tests.setReadOnly(true); // the version's tests can be run, not changed
  }

  function close() {
    if (!shown) return;
    state.files = shown.draftFiles;
    TOOLBAR.forEach((selector, i) => {
      root.querySelector(selector).disabled = shown.toolbar[i];
    });
    shown = null;
    delete root.dataset.readonly;
    banner.hidden = true;
    container.hidden = true;
    workspace.hidden = false;
    problems.forEach((node) => { node.hidden = false; });
    forms.setReadOnly(false);
    forms.fill();
    if (tests) tests.setReadOnly(false);
    showDiagramTab();
  }

  async function restoreShown() {
    const version = shown && shown.version;
    close();
    if (version) await restore(version);
  }

  return { open, close, isOpen: () => Boolean(shown) };
}
