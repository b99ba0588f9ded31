// The studio's list page: ticket types (GET /studio/api/types) and "New ticket type".
import { when } from '../when.js';
import { api, describe, el } from './api.js';

function running(counts) {
  const parts = Object.entries(counts || {})
    .filter(([, n]) => n > 0)
    .map(([version, n]) => `v${version}: ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

async function showTypes(root) {
  const body = root.querySelector('#types tbody');
  const status = root.querySelector('#types-status');
  try {
    const { types } = await api.types();
    body.replaceChildren(
      ...types.map((type) =>
        el(
          'tr',
          { 'data-key': type.key },
          el('td', {}, el('a', { href: `/studio/types/${encodeURIComponent(type.key)}`, text: type.name || type.key })),
          el('td', {}, el('code', { text: type.key })),
          el('td', { text: type.latest_version === null ? 'not deployed' : `v${type.latest_version}` }),
          el('td', { text: type.deployed_by || '' }),
          el('td', { text: when(type.deployed_at) }),
          el('td', { text: running(type.running) }),
          el(
            'td',
            {},
            type.has_draft ? el('span', { class: 'badge', text: 'draft' }) : null,
            type.retired ? el('span', { class: 'badge breached', text: 'retired' }) : null,
          ),
          el(
            'td',
            {},
            type.latest_version === null
              ? null
              : el('button', {
                  type: 'button',
                  class: 'retire',
                  text: type.retired ? 'Unretire' : 'Retire',
                  title: type.retired
                    ? 'Offer the type again in the portal and the API'
                    : 'No new tickets of this type; running ones finish',
                  onclick: () => toggleRetired(root, type),
                }),
          ),
        ),
      ),
    );
    status.textContent = types.length ? '' : 'No ticket types yet.';
  } catch (error) {
    status.textContent = `Could not load the ticket types: ${describe(error)}`;
  }
}

async function toggleRetired(root, type) {
  const status = root.querySelector('#types-status');
  try {
    await (type.retired ? api.unretire(type.key) : api.retire(type.key));
    await showTypes(root);
  } catch (error) {
    status.textContent = `Could not change ${type.key}: ${describe(error)}`;
  }
}

function newTypeForm(root) {
  const dialog = root.querySelector('#new-type');
  const form = dialog.querySelector('form');
  const message = dialog.querySelector('.error');
  root.querySelector('#new-type-button').addEventListener('click', () => {
    message.textContent = '';
    dialog.showModal();
  });
  dialog.querySelector('.cancel').addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = form.elements.key.value.trim();
    const name = form.elements.name.value.trim();
    try {
      const created = await api.createType(key, name);
      window.location.assign(`/studio/types/${encodeURIComponent(created.key)}`);
    } catch (error) {
      const fields = error.body.errors || {};
      message.textContent = Object.values(fields).join(' ') || error.message;
    }
  });
}

const root = document.getElementById('studio-list');
if (root) {
  newTypeForm(root);
  showTypes(root);
}
