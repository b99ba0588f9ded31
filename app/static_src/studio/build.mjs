// Bundle the studio's browser code into app/static/studio/ (git-ignored): `make studio` runs this
// after `npm ci`. Two entries: the editor page (bpmn-js modeler + properties panel, ~1.7 MB
// minified) and the list page (a few kB), so the list never loads the modeler.
import { build } from 'esbuild';

import { common, root } from '../esbuild-options.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

await build({
  entryPoints: {
    editor: path.join(here, 'editor.js'),
    list: path.join(here, 'list.js'),
    decisions: path.join(here, 'decisions.js'), // dmn-js, loaded when the Decisions tab opens
  },
  outdir: path.join(root, 'app/static/studio'),
  ...common,
  alias: { react: '@bpmn-io/properties-panel/preact/compat' },
});
