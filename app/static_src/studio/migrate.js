// The Versions tab's "Migrate tickets" panel: pick a source and a target version and renamed
// elements, run a dry run (movable tickets and the others grouped by reason), start a batch of the
// movable ones and follow its progress (the worker moves them; the panel polls the batch).
import { call, describe, el } from './api.js';

const POLL_MS = 1000;
const SHOWN_IDS = 30;

export function migratePanel(root, key, { say, refresh }) {
  const source = root.querySelector('#migrate-source');
  const target = root.querySelector('#migrate-target');
  const mappingBody = root.querySelector('#migrate-mapping tbody');
  const result = root.querySelector('#migrate-result');
  const startButton = root.querySelector('#migrate-start');
  const progress = root.querySelector('#migrate-progress');
  const bar = root.querySelector('#migrate-bar');
  const counts = root.querySelector('#migrate-counts');
  const failures = root.querySelector('#migrate-failures');
  const base = `/types/${encodeURIComponent(key)}/migrations`;
  let movable = [];
  let plan = null;
  let timer = null;

  function fill(versions) {
    const numbers = versions.map((v) => v.version);
    for (const [select, pick] of [[source, numbers.find((n, i) => i > 0 && versions[i].running) || numbers[1]], [target, numbers[0]]]) {
      const kept = Number(select.value) || pick;
      select.replaceChildren(...numbers.map((n) => el('option', { value: n, text: `v${n}` })));
      if (kept) select.value = String(kept);
    }
    root.querySelector('#migrate').hidden = numbers.length < 2;
  }

  function addRow(oldId = '', newId = '') {
    const row = el(
      'tr',
      {},
      el('td', {}, el('input', { 'aria-label': 'Old element id', class: 'migrate-old', value: oldId })),
      el('td', {}, el('input', { 'aria-label': 'New element id', class: 'migrate-new', value: newId })),
      el('td', {}, el('button', { type: 'button', text: 'Remove', onclick: () => row.remove() })),
    );
    mappingBody.append(row);
  }

  function mapping() {
    const out = {};
    for (const row of mappingBody.querySelectorAll('tr')) {
      const oldId = row.querySelector('.migrate-old').value.trim();
      const newId = row.querySelector('.migrate-new').value.trim();
      if (oldId && newId) out[oldId] = newId;
    }
    return out;
  }

  function ids(list) {
    const shown = list.slice(0, SHOWN_IDS).join(', ');
    return list.length > SHOWN_IDS ? `${shown} … (${list.length - SHOWN_IDS} more)` : shown;
  }

  async function dryRun() {
    result.replaceChildren(el('p', { text: 'Checking the running tickets…' }));
    startButton.hidden = true;
    plan = { source_version: Number(source.value), target_version: Number(target.value), mapping: mapping() };
    try {
      const answer = await call('POST', `${base}/dry-run`, plan);
      movable = answer.movable.filter((id) => typeof id === 'number');
      const blocked = answer.blocked.length
        ? el(
            'table',
            { class: 'card', id: 'migrate-blocked' },
            el('caption', { text: `Cannot move: ${answer.counts.blocked} ticket(s)` }),
            el('thead', {}, el('tr', {}, ['Element', 'State', 'Reason', 'Tickets'].map((h) => el('th', { text: h })))),
            el(
              'tbody',
              {},
              answer.blocked.map((g) =>
                el('tr', {}, el('td', {}, el('code', { text: g.element_id })), el('td', { text: g.state }), el('td', { text: g.reason }), el('td', { text: `${g.tickets.length}: ${ids(g.tickets)}` })),
              ),
            ),
          )
        : el('p', { text: 'Every running ticket can move.' });
      result.replaceChildren(
        el('p', { class: 'migrate-movable' }, el('strong', { text: `Can move: ${answer.counts.movable} ticket(s)` }), movable.length ? ` (${ids(movable)})` : ''),
        blocked,
      );
      startButton.textContent = `Migrate ${movable.length} movable tickets`;
      startButton.hidden = movable.length === 0;
    } catch (error) {
      result.replaceChildren(el('p', { class: 'error', text: `No dry run: ${describe(error)}` }));
    }
  }

  function show(batch) {
    const c = batch.counts;
    progress.hidden = false;
    bar.max = Math.max(c.total, 1);
    bar.value = c.total - c.pending;
    counts.textContent =
      `${batch.state === 'done' ? 'Done' : 'Moving'}: ${c.moved} of ${c.total} moved` +
      ` · ${c.failed} failed · ${c.skipped} skipped · ${c.pending} to go`;
    counts.dataset.state = batch.state;
    failures.replaceChildren(...batch.failures.map((f) => el('li', { text: `Ticket ${f.ticket_id}: ${f.reason}` })));
  }

  async function poll(id) {
    try {
      const batch = await call('GET', `/migrations/${id}`);
      show(batch);
      if (batch.state !== 'done') timer = setTimeout(() => poll(id), POLL_MS);
      else {
        say(`Migration finished: ${batch.counts.moved} ticket(s) moved.`, 'ok');
        if (refresh) refresh(); // the versions' running counts
      }
    } catch (error) {
      counts.textContent = `Could not read the progress: ${describe(error)}`;
      timer = setTimeout(() => poll(id), POLL_MS * 5);
    }
  }

  async function start() {
    startButton.disabled = true;
    clearTimeout(timer);
    try {
      const batch = await call('POST', base, { ...plan, ticket_ids: movable });
      startButton.hidden = true;
      show(batch);
      timer = setTimeout(() => poll(batch.id), POLL_MS);
    } catch (error) {
      say(`Not started: ${describe(error)}`, 'error');
    } finally {
      startButton.disabled = false;
    }
  }

  root.querySelector('#migrate-add-row').addEventListener('click', () => addRow());
  root.querySelector('#migrate-dry-run').addEventListener('click', dryRun);
  startButton.addEventListener('click', start);
  return { fill };
}
