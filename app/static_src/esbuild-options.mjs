// What every browser bundle of Ticketflow shares (the studio's and the dashboard's build.mjs):
// one minified IIFE per entry for es2020, licences linked, fonts and icons as files.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const common = {
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
};
