// The studio's JSON endpoints (docs: /work/briefs/studio-contract.md), with the page's CSRF token.
const BASE = '/studio/api';

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') : '';
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `request failed (${status})`);
    this.status = status;
    this.body = body || {};
  }
}

export async function call(method, path, body) {
  const options = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  if (method !== 'GET') options.headers['X-CSRFToken'] = csrfToken();
  const answer = await fetch(BASE + path, options);
  let data = null;
  try {
    data = await answer.json();
  } catch (e) {
    data = null;
  }
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

// The error's message and the fields it names ({error, errors: {field: message}} answers).
export function describe(error) {
  const fields = Object.entries((error.body && error.body.errors) || {}).map(([field, message]) => `${field}: ${message}`);
  return [error.message, ...fields].join(' — ');
}

const t = (key) => encodeURIComponent(key);

export const api = {
  types: () => call('GET', '/types'),
  createType: (key, name) => call('POST', '/types', { key, name }),
  draft: (key) => call('GET', `/types/${t(key)}/draft`),
  save: (key, files) => call('PUT', `/types/${t(key)}/draft`, { files }),
  check: (key, files) => call('POST', `/types/${t(key)}/check`, { files }),
  discard: (key) => call('DELETE', `/types/${t(key)}/draft`),
  deploy: (key, comment, overrideTests) =>
    call('POST', `/types/${t(key)}/deploy`, overrideTests ? { comment, override_tests: true } : { comment }),
  runTests: (key, files) => call('POST', `/types/${t(key)}/tests`, { files }),
  versions: (key) => call('GET', `/types/${t(key)}/versions`),
  version: (key, version) => call('GET', `/types/${t(key)}/versions/${version}`),
  restore: (key, version) => call('POST', `/types/${t(key)}/versions/${version}/restore`),
  diff: (key, from, to) => call('GET', `/types/${t(key)}/diff?from=${t(from)}&to=${t(to)}`),
  retire: (key) => call('POST', `/types/${t(key)}/retire`),
  unretire: (key) => call('POST', `/types/${t(key)}/unretire`),
  catalog: () => call('GET', '/catalog'),
  previewForm: (schema, data) => call('POST', '/forms/preview', data === undefined ? { schema } : { schema, data }),
  evaluateDecision: (dmn, decisionId, inputs) =>
    call('POST', '/decisions/evaluate', { dmn, decision_id: decisionId, inputs }),
  previewTimer: (expression) => call('POST', '/timers/preview', { expression }),
  previewInstructions: (text, data) =>
    call('POST', '/instructions/preview', data === undefined ? { text } : { text, data }),
};

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
