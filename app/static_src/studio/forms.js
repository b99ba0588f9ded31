// The Forms tab: each form file of the draft as JSON Schema text (CodeMirror, codemirror.js), with a
// live preview rendered by the server's own form renderer (POST /studio/api/forms/preview) and the
// errors for sample data.
import { api, el } from './api.js';
import { jsonEditor } from './codemirror.js';

// A form file of the draft: a .json file that is not the process tests (<key>.tests.json, tests.js).
export const isFormFile = (name) => name.endsWith('.json') && !name.endsWith('.tests.json');

const TEMPLATE = { title: 'New form', type: 'object', required: ['note'], properties: { note: { type: 'string', title: 'Note' } } };

export function formsTab(root, state, onChange) {
  const select = root.querySelector('#form-files');
  const schema = jsonEditor(root.querySelector('#form-schema'), {
    labelledBy: 'form-schema-label',
    onChange: (text) => {
      if (!select.value) return;
      state.files[select.value] = text;
      onChange();
      later();
    },
  });
  const data = root.querySelector('#form-data');
  const preview = root.querySelector('#form-preview');
  const errors = root.querySelector('#form-errors');
  const newName = root.querySelector('#new-form-name');
  let timer = null;

  const names = () => Object.keys(state.files).filter(isFormFile).sort();

  function fill(selected) {
    select.replaceChildren(...names().map((name) => el('option', { value: name, text: name, selected: name === selected })));
    show();
  }

  function show() {
    schema.setValue(select.value ? state.files[select.value] : '');
    refresh();
  }

  async function refresh() {
    errors.replaceChildren();
    if (!select.value) {
      preview.replaceChildren(el('p', { class: 'help', text: 'No form yet: add one below.' }));
      return;
    }
    let parsed;
    let sample;
    try {
      parsed = JSON.parse(schema.value());
    } catch (error) {
      errors.append(el('li', { text: `The schema is not valid JSON: ${error.message}` }));
      return;
    }
    try {
      sample = data.value.trim() ? JSON.parse(data.value) : undefined;
    } catch (error) {
      errors.append(el('li', { text: `The sample data is not valid JSON: ${error.message}` }));
    }
    try {
      const answer = await api.previewForm(parsed, sample);
      const doc = new DOMParser().parseFromString(answer.html, 'text/html');
      for (const script of doc.querySelectorAll('script')) script.remove(); // never runs here anyway
      preview.replaceChildren(...doc.body.childNodes);
      for (const [field, message] of Object.entries(answer.errors || {})) {
        errors.append(el('li', {}, el('code', { text: field }), ` ${message}`));
      }
    } catch (error) {
      const fields = error.body && error.body.errors ? Object.entries(error.body.errors) : [];
      errors.append(el('li', { text: error.message }));
      for (const [field, message] of fields) errors.append(el('li', {}, el('code', { text: field }), ` ${message}`));
    }
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }

  select.addEventListener('change', show);
  data.addEventListener('input', later);
  root.querySelector('#new-form').addEventListener('click', () => {
    const base = newName.value.trim().replace(/\.json$/, '');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(base)) {
      errors.replaceChildren(el('li', { text: 'A form name is letters, digits and _ (e.g. return_start).' }));
      return;
    }
    const name = `${base}.json`;
    if (!(name in state.files)) state.files[name] = JSON.stringify(TEMPLATE, null, 2);
    newName.value = '';
    onChange();
    fill(name);
  });

  // An old version shown read-only (readonly.js): its forms can be read and previewed, not changed.
  function setReadOnly(readOnly) {
    schema.setReadOnly(readOnly);
    newName.disabled = readOnly;
    root.querySelector('#new-form').disabled = readOnly;
  }

  return { fill: () => fill(select.value || names()[0]), refresh, setReadOnly };
}
