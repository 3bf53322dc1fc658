// CPU the gateway burns with no traffic: the same topology as gateway-cpu.ts, a warm-up, then
// BENCH_SECONDS of silence (connections stay up), then the same span of calls at BENCH_RATE.
// A fixed background cost shows as CPU µs/call falling with the call rate.
// Env: BENCH_SECONDS=10 BENCH_RATE=200
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTopology } from '../test/interop/topology.js';
import { startSipp } from '../test/interop/sipp.js';
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
const t = await startTopology(join(base, 't'), 'bastion-process', { decisions: true, quiet: true, nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) });
const pid = t.middlePids()[0]!;
try {
  const calls = async (r: number, n: number, name: string) => {
    const dir = join(t.dir, name);
    mkdirSync(dir, { recursive: true });
    const uas = startSipp({ scenario: 'uas', dir, localPort: t.ports.uas, calls: n, timeoutS: seconds + 60 });
    await new Promise((res) => setTimeout(res, 300));
    const uac = startSipp({ scenario: 'uac', dir, localPort: t.ports.uac, remote: `127.0.0.1:${t.ports.aUdp}`, calls: n, rate: r, limit: Math.max(200, r * 2), service: 'bob', timeoutS: seconds + 45 });
    await uac.done;
    uas.stop();
    await uas.done;
  };
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
  await calls(rate, rate * seconds, 'load');
  const busy = ticks(pid) - t1;
  console.log(`${rate} calls/s for ${((Date.now() - w0) / 1000).toFixed(1)} s: gateway CPU ${(busy * 10).toFixed(0)} ms = ${((busy * 1e4) / (rate * seconds)).toFixed(0)} µs/call`);
} finally {
  await t.stop();
  rmSync(base, { recursive: true, force: true });
}
