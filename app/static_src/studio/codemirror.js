// The JSON editor of the Forms tab: CodeMirror 6 with JSON highlighting, a parse-error lint gutter,
// undo history and the default keys. CodeMirror injects its styles as <style> elements; the page's
// CSP allows them only with the answer's nonce (<meta name="csp-nonce">, app/web/studio/pages.py).
import './codemirror.css';

import { history, defaultKeymap, historyKeymap, indentWithTab } from '@codemirror/commands';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, linter } from '@codemirror/lint';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';

function nonce() {
  const meta = document.querySelector('meta[name="csp-nonce"]');
  return meta ? meta.getAttribute('content') : '';
}

// A JSON editor in `parent`: {value(), setValue(text), setReadOnly(bool), view}; `onChange(text)`
// after each edit by the person (not after setValue).
export function jsonEditor(parent, { labelledBy, onChange }) {
  const editable = new Compartment();
  let quiet = false;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        EditorView.cspNonce.of(nonce()),
        lineNumbers(),
        history(),
        highlightActiveLine(),
        bracketMatching(),
        indentOnInput(),
        json(),
        syntaxHighlighting(defaultHighlightStyle),
        linter(jsonParseLinter(), { delay: 300 }),
        lintGutter(),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'aria-labelledby': labelledBy, 'aria-multiline': 'true' }),
        editable.of([]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !quiet) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    value: () => view.state.doc.toString(),
    setValue(text) {
      quiet = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      } finally {
        quiet = false;
      }
    },
    setReadOnly(readOnly) {
      view.dispatch({
        effects: editable.reconfigure(readOnly ? [EditorState.readOnly.of(true), EditorView.editable.of(false)] : []),
      });
    },
  };
}
