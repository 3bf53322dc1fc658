// `npm run bench`: runs every benchmark script in this folder, one process each so that
// one benchmark's warm-up and garbage never colour another's figures. Figures are printed,
// never asserted. `npm run bench -- <name ...>` runs only the named ones (e.g. rego-eval).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'main.ts' && !f.endsWith('.d.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

let failed = 0;
for (const script of scripts) {
  console.log(`\n=== ${script} ===`);
  // node flags: the gateway's semi-space size (bin/bastion.js), and gc() for benches that settle the heap
  const r = spawnSync(process.execPath, ['--max-semi-space-size=32', '--expose-gc', '--import', 'tsx', join(here, script)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(${script} exited with ${r.status ?? r.signal})`);
  }
}
if (failed > 0) process.exitCode = 1;
