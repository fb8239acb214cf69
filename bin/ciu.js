#!/usr/bin/env node
// The installed `ciu` command: runs src/cli/main.ts under tsx's loader (require and import(), which
// commands use to load heavy modules on demand) in a child node, passing signals and the exit code.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS shim loads by require */
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const loader = pathToFileURL(require.resolve('tsx')).href;
const main = join(__dirname, '..', 'src', 'cli', 'main.ts');
const child = spawn(process.execPath, ['--import', loader, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));
