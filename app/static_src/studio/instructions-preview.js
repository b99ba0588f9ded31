// "Preview" under a user task's instructions: the exact HTML an agent reads above the form, rendered
// by the server as the inbox renders it (POST /studio/api/instructions/preview), for sample data.
import './instructions-preview.css';

import { createElement as h } from '@bpmn-io/properties-panel/preact';
import { useEffect, useRef, useState } from '@bpmn-io/properties-panel/preact/hooks';
import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import { api } from './api.js';
import { bodyText } from './spiff-model.js';

// The server's answer is escaped, sanitised HTML (the inbox's own template); parsed, never run.
function nodesOf(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  for (const node of doc.querySelectorAll('script, style, iframe, object')) node.remove();
  return [...doc.body.childNodes];
}

export function InstructionsPreview(props) {
  const [answer, setAnswer] = useState(null);
  const [sample, setSample] = useState('');
  const target = useRef(null);
  useEffect(() => {
    if (target.current) target.current.replaceChildren(...(answer && answer.html ? nodesOf(answer.html) : []));
  }, [answer]);
  const preview = async () => {
    const text = bodyText(getBusinessObject(props.element), 'spiffworkflow:InstructionsForEndUser');
    let data;
    try {
      data = sample.trim() ? JSON.parse(sample) : undefined;
    } catch (error) {
      setAnswer({ problem: `The sample data is not valid JSON: ${error.message}` });
      return;
    }
    try {
      setAnswer(await api.previewInstructions(text, data));
    } catch (error) {
      const fields = Object.values((error.body && error.body.errors) || {});
      setAnswer({ problem: fields.join('; ') || error.message });
    }
  };
  return h('div', { class: 'bio-properties-panel-entry studio-instructions-preview' },
    h('label', { class: 'bio-properties-panel-label', for: 'studio-instructions-sample' }, 'Sample data for the preview (JSON, optional)'),
    h('input', {
      id: 'studio-instructions-sample',
      class: 'bio-properties-panel-input',
      value: sample,
      placeholder: '{"customer": {"name": "Jane"}}',
      onInput: (event) => setSample(event.target.value),
    }),
    h('button', { type: 'button', class: 'studio-small', onClick: preview }, 'Preview'),
    answer && answer.problem ? h('p', { class: 'studio-preview-problem' }, answer.problem) : null,
    answer && answer.warning ? h('p', { class: 'studio-preview-problem' }, answer.warning) : null,
    h('div', { class: 'studio-instructions-html', ref: target, hidden: !(answer && answer.html) }),
    answer && answer.html === '' ? h('p', { class: 'studio-timer-answer' }, 'No instructions: the agent sees the form only.') : null);
}
