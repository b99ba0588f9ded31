// Bundle the dashboard's browser code into app/static/dashboard/ (git-ignored): `make studio`
// runs this after `npm ci`. Every `*.page.js` here is an entry of its own (the instance viewer,
// the charts, ...), so each page loads only what it draws.
import { build } from 'esbuild';

import { common, root } from '../esbuild-options.mjs';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const entryPoints = Object.fromEntries(
  readdirSync(here)
    .filter((name) => name.endsWith('.page.js'))
    .map((name) => [name.slice(0, -'.page.js'.length), path.join(here, name)]),
);

await build({
  entryPoints,
  outdir: path.join(root, 'app/static/dashboard'),
  ...common,
});
