// What the Decisions tab reads from DMN text without dmn-js: a decision table's inputs (for the
// Try it form), the template of a new decision, and a typed value from what the analyst typed.
const DMN_NS = 'https://www.omg.org/spec/DMN/20191111/MODEL/';

export function decisionInputs(xml, decisionId) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const decision = [...doc.getElementsByTagNameNS('*', 'decision')].find((d) => d.getAttribute('id') === decisionId);
  if (!decision) return [];
  const table = decision.getElementsByTagNameNS('*', 'decisionTable')[0];
  if (!table) return [];
  return [...table.children]
    .filter((child) => child.localName === 'input')
    .map((input) => {
      const expression = input.getElementsByTagNameNS('*', 'inputExpression')[0];
      const text = expression ? expression.getElementsByTagNameNS('*', 'text')[0] : null;
      return {
        id: input.getAttribute('id'),
        label: input.getAttribute('label') || '',
        expression: text ? text.textContent.trim() : '',
        typeRef: expression ? expression.getAttribute('typeRef') || '' : '',
      };
    });
}

const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

// A small FIRST-hit table: one input, one output, two rules; the engine's cells are Python-like.
export function newDecision(id, name) {
  const n = escape(name);
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="${DMN_NS}" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="${id}_definitions" name="${n}" namespace="https://ticketflow.example/dmn">
  <decision id="${id}" name="${n}">
    <decisionTable id="${id}_table" hitPolicy="FIRST">
      <input id="${id}_in_tier" label="Customer tier">
        <inputExpression id="${id}_in_tier_expr" typeRef="string"><text>tier</text></inputExpression>
      </input>
      <output id="${id}_out_result" label="Result" name="result" typeRef="string" />
      <rule id="${id}_rule_1">
        <description>gold and platinum customers</description>
        <inputEntry id="${id}_rule_1_tier"><text>? in ["gold", "platinum"]</text></inputEntry>
        <outputEntry id="${id}_rule_1_result"><text>"yes"</text></outputEntry>
      </rule>
      <rule id="${id}_rule_2">
        <description>everyone else</description>
        <inputEntry id="${id}_rule_2_tier"><text>-</text></inputEntry>
        <outputEntry id="${id}_rule_2_result"><text>"no"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="${id}_diagram">
      <dmndi:DMNShape id="${id}_shape" dmnElementRef="${id}">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
`;
}

// What the analyst typed as the table's typeRef says: '' is None, numbers and booleans checked.
export function parseValue(text, typeRef, label) {
  const value = text.trim();
  if (value === '') return null;
  const type = (typeRef || '').toLowerCase();
  if (['number', 'integer', 'long', 'double'].includes(type)) {
    const number = Number(value);
    if (!Number.isFinite(number)) throw new Error(`${label}: "${value}" is not a number`);
    return number;
  }
  if (type === 'boolean') {
    if (!['true', 'false'].includes(value.toLowerCase())) throw new Error(`${label}: true or false, not "${value}"`);
    return value.toLowerCase() === 'true';
  }
  return value;
}
