#!/usr/bin/env node
// Places the built WASM runtime next to the compiled back end (dist/src/rego/runtime/build/),
// where src/rego/wasm/runtime.ts looks for it relative to its own location.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src/rego/runtime/build/runtime.wasm');
const to = join(root, 'dist/src/rego/runtime/build/runtime.wasm');
mkdirSync(dirname(to), { recursive: true });
copyFileSync(from, to);
