// A cold `bastion policy test policies/`: a fresh process through the built launcher
// (bin/bastion.js -> dist/), with an empty user cache (the prepared runtime template comes with
// the build, as in an installed package), next to a bare `node -e 0`. Wall and CPU times,
// medians of several runs. Figures are printed, never asserted.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const launcher = join(root, 'bin/bastion.js');
if (!existsSync(join(root, 'dist/src/cli/main.js'))) {
  console.log('cli-cold-start: dist/ is not built (npm run build); skipped');
  process.exit(0);
}

const runs = 7;
const cache = mkdtempSync(join(tmpdir(), 'bastion-cold-'));

function measure(args: string[]): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    // the child's CPU time, from bash's `times` after it ran
    const script = `TIMEFORMAT='%R %U %S'; time ${args.map((a) => `'${a}'`).join(' ')} > /dev/null`;
    const r = spawnSync('bash', ['-c', script], { cwd: root, env: { ...process.env, XDG_CACHE_HOME: cache }, encoding: 'utf8' });
    const [real, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    wall.push(real! * 1000);
    cpu.push((user! + sys!) * 1000);
  }
  return { wall, cpu };
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const node = measure([process.execPath, '-e', '0']);
  const cold = measure([process.execPath, launcher, 'policy', 'test', 'policies/']);
  console.log(`cold CLI start (${runs} runs each, medians; empty user cache)`);
  console.log(`  node -e 0                              wall ${med(node.wall).toFixed(0)} ms, cpu ${med(node.cpu).toFixed(0)} ms`);
  console.log(`  bastion policy test policies/          wall ${med(cold.wall).toFixed(0)} ms, cpu ${med(cold.cpu).toFixed(0)} ms (min wall ${Math.min(...cold.wall).toFixed(0)} ms)`);
} finally {
  rmSync(cache, { recursive: true, force: true });
}
