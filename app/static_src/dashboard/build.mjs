// Bundle the dashboard's browser code into app/static/dashboard/ (git-ignored): `make assets`
// runs this after `npm ci`. Every `*.page.js` here is an entry of its own (the instance viewer,
// the charts, ...), so each page loads only what it draws.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

const entryPoints = Object.fromEntries(
  readdirSync(here)
    .filter((name) => name.endsWith('.page.js'))
    .map((name) => [name.slice(0, -'.page.js'.length), path.join(here, name)]),
);

await build({
  entryPoints,
  outdir: path.join(root, 'app/static/dashboard'),
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
  absWorkingDir: root,
});
