#!/usr/bin/env node
// Starts the TypeScript build from an empty dist/ (a file removed or moved out of the build must
// not linger there and ship) and places the built WASM runtime next to the compiled back end
// (dist/src/rego/runtime/build/), where src/rego/wasm/runtime.ts looks for it.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src/rego/runtime/build/runtime.wasm');
const to = join(root, 'dist/src/rego/runtime/build/runtime.wasm');
rmSync(join(root, 'dist'), { recursive: true, force: true });
mkdirSync(dirname(to), { recursive: true });
copyFileSync(from, to);
