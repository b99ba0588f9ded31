// Bundle the studio's browser code into app/static/studio/ (git-ignored): `make studio` runs this
// after `npm ci`. Two entries: the editor page (bpmn-js modeler + properties panel, ~1.7 MB
// minified) and the list page (a few kB), so the list never loads the modeler.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

await build({
  entryPoints: {
    editor: path.join(here, 'editor.js'),
    list: path.join(here, 'list.js'),
    decisions: path.join(here, 'decisions.js'), // dmn-js, loaded when the Decisions tab opens
  },
  outdir: path.join(root, 'app/static/studio'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'linked',
  logLevel: 'warning',
  loader: {
    '.json': 'json',
    '.woff': 'file',
    '.woff2': 'file',
    '.ttf': 'file',
    '.eot': 'file',
    '.svg': 'file',
  },
  alias: { react: '@bpmn-io/properties-panel/preact/compat' },
  absWorkingDir: root,
});
