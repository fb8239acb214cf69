#!/usr/bin/env node
// The installed `ciu` command: registers tsx so the TypeScript sources run as they are.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS shim loads by require */
require('tsx/cjs');
require('../src/cli/main.ts');
