#!/usr/bin/env node
// Runs before `tsc -p tsconfig.build.json`: clears dist/ (so files that were moved, deleted or
// excluded from the build, like dev tools and testing/ helpers, do not linger in the package) and places
// the built WASM runtime next to the compiled back end (dist/src/rego/runtime/build/), where
// src/rego/wasm/runtime.ts looks for it relative to its own location.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
const from = join(root, 'src/rego/runtime/build/runtime.wasm');
const to = join(root, 'dist/src/rego/runtime/build/runtime.wasm');
mkdirSync(dirname(to), { recursive: true });
copyFileSync(from, to);
