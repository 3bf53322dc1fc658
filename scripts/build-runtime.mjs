#!/usr/bin/env node
// Builds the AssemblyScript WASM runtime (src/rego/runtime/assembly) into
// src/rego/runtime/build/runtime.wasm. Skips the build when the output is newer than
// every source file, so tests and `npm install` can call it freely.
import { mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const srcDir = join(root, 'src/rego/runtime/assembly');
const outDir = join(root, 'src/rego/runtime/build');
const entry = join(srcDir, 'index.ts');
const out = join(outDir, 'runtime.wasm');

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

if (!existsSync(entry)) {
  console.log('build-runtime: no AssemblyScript runtime yet (src/rego/runtime/assembly/index.ts); skipped');
  process.exit(0);
}
const force = process.argv.includes('--force');
if (!force && existsSync(out) && statSync(out).mtimeMs >= Math.max(newestMtime(srcDir), statSync(fileURLToPath(import.meta.url)).mtimeMs)) {
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
const asc = await import('assemblyscript/asc');
const args = [
  entry,
  '--runtime', 'stub',
  '--importMemory',
  '--initialMemory', '1',
  '--use', 'abort=src/rego/runtime/assembly/abort/rt_abort',
  '-O3', '--noAssert',
  '--outFile', out,
  '--textFile', join(outDir, 'runtime.wat'),
];
const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
if (error) {
  console.error('build-runtime: asc failed:', error.message, String(stderr ?? ''));
  process.exit(1);
}
console.log(`build-runtime: wrote ${out}`);
