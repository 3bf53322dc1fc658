// CPU the gateway burns with no traffic: the same topology as gateway-cpu.ts, a warm-up, then
// BENCH_SECONDS of silence (connections stay up), then the same span of calls at BENCH_RATE.
// A fixed background cost shows as CPU µs/call falling with the call rate.
// Env: BENCH_SECONDS=10 BENCH_RATE=200
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTopology } from '../test/interop/topology.js';
import { runCalls } from './lib/sipp-run.js';
import { kamailioAvailable } from '../test/interop/kamailio.js';

if (!kamailioAvailable()) {
  console.log('gateway-idle: kamailio/sipp not installed; skipped');
  process.exit(0);
}
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 200);
const ticks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
const base = mkdtempSync(join(tmpdir(), 'bench-gwidle-'));
const t = await startTopology(join(base, 't'), 'bastion-process', { decisions: true, quiet: true, exemptEdges: true, nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) });
const pid = t.middlePids()[0]!;
try {
  const calls = (r: number, n: number, name: string) => runCalls(t, r, n, join(t.dir, name));
  await calls(50, 500, 'warmup');
  await new Promise((r) => setTimeout(r, 2000));
  for (let i = 0; i < 2; i++) {
    const t0 = ticks(pid);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const idle = ticks(pid) - t0;
    console.log(`idle ${seconds} s: gateway CPU ${(idle * 10).toFixed(0)} ms (${((idle * 10) / seconds / 10).toFixed(1)} % of a core)`);
  }
  const t1 = ticks(pid);
  const w0 = Date.now();
  const run = await calls(rate, rate * seconds, 'load');
  const busy = ticks(pid) - t1;
  console.log(`${rate} calls/s for ${((Date.now() - w0) / 1000).toFixed(1)} s: ok ${run.ok}/${run.calls} failed ${run.failed} retrans ${run.retrans}; gateway CPU ${(busy * 10).toFixed(0)} ms = ${((busy * 1e4) / (rate * seconds)).toFixed(0)} µs/call`);
  for (const e of run.errors) console.log(`  ${e}`);
} finally {
  await t.stop();
  rmSync(base, { recursive: true, force: true });
}
