// The Versions tab: every deployed version (GET …/versions), open it read-only (readonly.js), its
// zip, restore as the draft, and a diff against the draft drawn as markers on the diagram.
import { when } from '../when.js';
import { api, describe, el } from './api.js';

const DIFF_MARKERS = ['studio-diff-added', 'studio-diff-changed'];

// What the deploy's process tests found: "9 passed", "1 failed of 9: deployed anyway (…)", or "—".
function testsText(tests) {
  if (!tests) return '—';
  if (!tests.failed) return `${tests.passed} passed`;
  const what = `${tests.failed} failed of ${tests.passed + tests.failed}`;
  return tests.overridden ? `${what}: deployed anyway (${(tests.failing || []).join(', ')})` : what;
}

export function versionsTab(root, key, modeler, { reload, say, saveFirst, open, onVersions }) {
  const body = root.querySelector('#versions tbody');
  const diffNode = root.querySelector('#diff');

  function clearDiff() {
    const canvas = modeler.get('canvas');
    modeler.get('elementRegistry').forEach((element) => DIFF_MARKERS.forEach((m) => canvas.removeMarker(element, m)));
    diffNode.replaceChildren();
  }

  async function diff(version) {
    clearDiff();
    if (saveFirst && !(await saveFirst())) {
      diffNode.append(el('p', { class: 'error', text: 'No diff: the draft could not be saved.' }));
      return;
    }
    try {
      const answer = await api.diff(key, version, 'draft');
      const canvas = modeler.get('canvas');
      const registry = modeler.get('elementRegistry');
      for (const [ids, marker] of [[answer.added, 'studio-diff-added'], [answer.changed, 'studio-diff-changed']]) {
        for (const id of ids || []) if (registry.get(id)) canvas.addMarker(id, marker);
      }
      diffNode.append(
        el('h3', { text: `Version ${version} → your draft` }),
        el('p', {}, `Added: ${(answer.added || []).join(', ') || 'none'}. `, `Changed: ${(answer.changed || []).join(', ') || 'none'}. `, `Removed: ${(answer.removed || []).join(', ') || 'none'}.`),
        ...Object.entries(answer.forms || {}).map(([name, text]) => el('details', {}, el('summary', { text: name }), el('pre', { text }))),
      );
    } catch (error) {
      const fields = Object.values(error.body.errors || {});
      diffNode.append(
        el('p', { class: 'error', text: `No diff: ${[error.message, ...fields].join(': ')}` }),
        el('ul', {}, ...(error.body.problems || []).map((p) => el('li', { text: `${p.element_id || p.file || ''} ${p.message}`.trim() }))),
      );
    }
  }

  async function restore(version) {
    try {
      await api.restore(key, version);
      await reload();
      say(`Version ${version} is now your draft.`, 'ok');
    } catch (error) {
      say(`Not restored: ${describe(error)}`, 'error');
    }
  }

  async function refresh() {
    try {
      const { versions } = await api.versions(key);
      body.replaceChildren(
        ...versions.map((v) =>
          el(
            'tr',
            { 'data-version': v.version },
            el('td', { text: `v${v.version}` }),
            el('td', { text: v.deployed_by || '' }),
            el('td', { text: when(v.deployed_at) }),
            el('td', { text: v.comment || '' }),
            el('td', { class: v.tests && v.tests.overridden ? 'tests-overridden' : null, text: testsText(v.tests) }),
            el('td', { text: String(v.running || 0) }),
            el(
              'td',
              {},
              el('a', { href: `/studio/types/${encodeURIComponent(key)}/versions/${v.version}.zip`, text: 'zip' }),
              ' ',
              open ? el('button', { type: 'button', text: 'Open', title: 'Show this version read-only', onclick: () => open(v.version) }) : null,
              ' ',
              el('button', { type: 'button', text: 'Diff to draft', onclick: () => diff(v.version) }),
              ' ',
              el('button', { type: 'button', text: 'Restore', onclick: () => restore(v.version) }),
            ),
          ),
        ),
      );
      if (onVersions) onVersions(versions);
      if (!versions.length) body.append(el('tr', {}, el('td', { colspan: 7, text: 'Not deployed yet.' })));
    } catch (error) {
      body.replaceChildren(el('tr', {}, el('td', { colspan: 7, text: `Could not load the versions: ${error.message}` })));
    }
  }

  return { refresh, restore };
}
