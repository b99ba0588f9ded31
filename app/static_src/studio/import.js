// "Import files…": .bpmn, .dmn and .json files from the analyst's computer into the draft. A .bpmn
// file replaces the type's diagram (opened in the modeler as it is, every extension element and
// attribute kept, from SpiffArena, Camunda Modeler or elsewhere); .dmn and .json files are added
// as decisions and forms under their own names. Nothing is stored until Save.
const KINDS = /\.(bpmn|dmn|json)$/i;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,126}\.(bpmn|dmn|json)$/;

export function importFiles(root, { state, modeler, diagramName, markDirty, say, refresh }) {
  const input = root.querySelector('#import-files');
  root.querySelector('#import').addEventListener('click', () => input.click());
  input.addEventListener('change', async () => {
    const chosen = [...input.files];
    input.value = '';
    const done = [];
    try {
      for (const file of chosen) {
        if (!KINDS.test(file.name)) throw new Error(`${file.name}: only .bpmn, .dmn and .json files`);
        const text = await file.text();
        if (/\.bpmn$/i.test(file.name)) {
          const { warnings } = await modeler.importXML(text);
          if (warnings.length) console.warn('import warnings', warnings.map((w) => w.message));
          state.files[diagramName] = text;
          done.push(`${file.name} (as ${diagramName})`);
        } else {
          const name = file.name.replace(/[^A-Za-z0-9_.-]/g, '_');
          if (!NAME.test(name)) throw new Error(`${file.name}: not a file name the studio keeps`);
          state.files[name] = text;
          done.push(name);
        }
      }
    } catch (error) {
      say(`Not imported: ${error.message}`, 'error');
      return;
    }
    if (!done.length) return;
    markDirty();
    refresh();
    say(`Imported ${done.join(', ')}: save to keep it in your draft.`, 'ok');
  });
}
