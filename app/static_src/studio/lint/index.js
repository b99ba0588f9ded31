// bpmnlint in the editor: bpmn-js-bpmnlint lints the diagram on import and on every change; its own
// overlays stay off (the `linting.completed` issues become problems of ours instead, drawn like the
// server's: markers, the Problems list with the rule's name, and errors disable Deploy).
import './lint.css';

import lintingModule from 'bpmn-js-bpmnlint';

import linterConfig from './config.js';

export const lintModules = [lintingModule];

export const lintOptions = { bpmnlint: linterConfig, active: false };

const SEVERITY = { error: 'error', warn: 'warning', info: 'warning', 'rule-error': 'warning' };

// {element id: [reports]} of bpmn-js-bpmnlint → problems {severity, file, element_id, message, rule}.
export function lintProblems(issues, file) {
  const problems = [];
  for (const [id, reports] of Object.entries(issues || {})) {
    for (const report of reports) {
      const inner = report.actualElementId ? `${report.actualElementId}: ` : '';
      problems.push({
        severity: SEVERITY[report.category] || 'warning',
        file,
        element_id: id,
        message: `${inner}${report.message}`,
        rule: report.rule,
      });
    }
  }
  return problems;
}

// Call `onChange(problems)` after a lint run that changed them (not on every keystroke).
export function watchLint(modeler, file, onChange) {
  let last = null;
  modeler.on('linting.completed', ({ issues }) => {
    const problems = lintProblems(issues, file);
    const key = JSON.stringify(problems);
    if (key === last) return;
    last = key;
    onChange(problems);
  });
}
