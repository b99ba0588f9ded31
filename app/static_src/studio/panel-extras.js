// Entries of our own (not form fields): the timer preview and an element's problems.
import { createElement as h } from '@bpmn-io/properties-panel/preact';
import { useState } from '@bpmn-io/properties-panel/preact/hooks';

import { when } from '../when.js';
import { api } from './api.js';
import { eventDefinition } from './spiff-model.js';

export function timerTarget(element) {
  const definition = eventDefinition(element, 'bpmn:TimerEventDefinition');
  if (!definition) return undefined;
  return definition.get('timeDuration') || definition.get('timeDate') || definition.get('timeCycle');
}

// "When would it fire?": the server evaluates the timer expression (POST /studio/api/timers/preview).
export function TimerPreview(props) {
  const [answer, setAnswer] = useState('');
  const check = async () => {
    const node = timerTarget(props.element);
    const expression = (node && node.get('body')) || '';
    try {
      const { next_due: due } = await api.previewTimer(expression);
      setAnswer(`Next due: ${when(due)}`);
    } catch (error) {
      const fields = (error.body && error.body.errors) || {};
      setAnswer(fields.expression || error.message);
    }
  };
  return h('div', { class: 'bio-properties-panel-entry studio-timer-preview' },
    h('button', { type: 'button', class: 'studio-small', onClick: check }, 'Preview the next due time'),
    answer ? h('p', { class: 'studio-timer-answer' }, answer) : null);
}

export function ProblemEntry(props) {
  return h('div', { class: `bio-properties-panel-entry studio-problem studio-problem-${props.problem.severity}` },
    h('p', null, `${props.problem.severity}: ${props.problem.message}${props.problem.rule ? ` (${props.problem.rule})` : ''}`));
}
