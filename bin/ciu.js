#!/usr/bin/env node
// The installed `ciu` command: the compiled CLI in dist/, which `npm run build` writes (`npm install` and
// `npm ci` run it as `prepare`). Compiled JavaScript, not TypeScript compiled at every call, keeps a
// `ciu` call about as quick as the `temporal` CLI's (npm run bench:cli).
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS shim loads by require */
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('ciu: not built yet: run `npm run build` (npm install does it)\n');
  process.exit(1);
}
require(main);
