#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('bastion: dist/ is missing; run `npm install` (or `npm run build`) first');
  process.exit(2);
}
const { main } = await import(entry.href);
await main(process.argv);
