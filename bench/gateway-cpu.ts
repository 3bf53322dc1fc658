// sip-bastion's CPU per call at one fixed call rate, repeated: the before/after figure for
// optimisation work. Same topology as gateway-sipp.ts (sipp → Kamailio atlanta → sip-bastion
// child process → Kamailio biloxi → sipp), one topology, one warm-up, then BENCH_REPEATS steps at
// BENCH_RATE calls/s; prints each step's gateway CPU µs per call (user + system from /proc) and
// the median. The machine is shared: compare medians, and run it under `nice`.
// BENCH_PROF=1 runs the gateway with --cpu-prof and prints the top functions by self time.
// BENCH_PERF=1 samples the gateway's CPU time (not wall time) with `perf record -e cpu-clock`
// during the measured steps (node --perf-basic-prof names the JS frames) and prints the top
// symbols by self CPU: the V8 profile samples wall time, so a preempted write looks expensive.
// BENCH_NODE_ARGS adds node flags to the gateway process (e.g. "--max-semi-space-size=32").
// BENCH_LOOP_DELAY=1 prints the gateway's event-loop delay (max, p99) every 5 s.
// BENCH_WORKERS sets policy.workers (0: evaluate in the event-loop thread); BENCH_CPUS runs the
// gateway under `taskset -c BENCH_CPUS` (e.g. 0: one core).
// Env: BENCH_RATE=200 BENCH_SECONDS=10 BENCH_REPEATS=5 BENCH_PROF=0 BENCH_PERF=0 BENCH_DECISIONS=1
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startTopology } from '../test/interop/topology.js';
import { startSipp } from '../test/interop/sipp.js';
import { kamailioAvailable } from '../test/interop/kamailio.js';
import { breakdown, printBreakdown } from './lib/perf-breakdown.js';

const rate = Number(process.env.BENCH_RATE ?? 200);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const prof = process.env.BENCH_PROF === '1';
const perf = process.env.BENCH_PERF === '1';
const decisions = process.env.BENCH_DECISIONS !== '0';

if (!kamailioAvailable()) {
  console.log('gateway-cpu: kamailio/sipp not installed; skipped');
  process.exit(0);
}

/** [user, system] CPU ticks of a process, all its threads (clock ticks of 10 ms). */
function ticks(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12])];
}

/** user + system CPU ticks of the process's main thread (the event loop). */
function mainTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function okCalls(file: string): { ok: number; failed: number; retrans: number } {
  if (!existsSync(file)) return { ok: 0, failed: -1, retrans: -1 };
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (n: string) => Number(last[head.indexOf(n)] ?? NaN);
  return { ok: col('SuccessfulCall(C)'), failed: col('FailedCall(C)'), retrans: col('Retransmissions(C)') };
}

const base = mkdtempSync(join(tmpdir(), 'bench-gwcpu-'));
const profDir = join(base, 'prof');
const workersEnv = process.env.BENCH_WORKERS;
const t = await startTopology(join(base, 't'), 'bastion-process', { decisions, quiet: true, exemptEdges: true, workers: workersEnv === undefined ? undefined : workersEnv === 'auto' ? 'auto' : Number(workersEnv), cpus: process.env.BENCH_CPUS, nodeArgs: [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), ...(perf ? ['--perf-basic-prof'] : [])] });
const pid = t.middlePids()[0]!;
const figures: number[] = [];
let perfRun: ChildProcess | undefined;
try {
  const step = async (r: number, calls: number, name: string) => {
    const dir = join(t.dir, name);
    (await import('node:fs')).mkdirSync(dir, { recursive: true });
    const uas = startSipp({ scenario: 'uas', dir, localPort: t.ports.uas, calls, timeoutS: seconds + 60 });
    await new Promise((res) => setTimeout(res, 300));
    const [u0, s0] = ticks(pid);
    const m0 = mainTicks(pid);
    const uac = startSipp({ scenario: 'uac', dir, localPort: t.ports.uac, remote: `127.0.0.1:${t.ports.aUdp}`, calls, rate: r, limit: Math.max(200, r * 2), service: 'bob', timeoutS: seconds + 45 });
    await uac.done;
    const [u1, s1] = ticks(pid);
    const m1 = mainTicks(pid);
    uas.stop();
    await uas.done;
    const st = okCalls(join(dir, 'uac-stat.csv'));
    return { ...st, userUs: ((u1 - u0) * 1e4) / Math.max(1, st.ok), sysUs: ((s1 - s0) * 1e4) / Math.max(1, st.ok), mainUs: ((m1 - m0) * 1e4) / Math.max(1, st.ok) };
  };
  const w = await step(50, 500, 'warmup');
  console.log(`warm-up: ok ${w.ok}/500 failed ${w.failed} retrans ${w.retrans}`);
  if (perf) perfRun = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '2000', '-g', '-p', String(pid), '-o', join(base, 'perf.data')], { stdio: 'ignore' });
  for (let i = 0; i < repeats; i++) {
    const s = await step(rate, rate * seconds, `r${i}`);
    const total = s.userUs + s.sysUs;
    figures.push(total);
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    console.log(`step ${i + 1}: ${rate}/s ok ${s.ok}/${rate * seconds} failed ${s.failed} retrans ${s.retrans}: gateway CPU ${total.toFixed(0)} µs/call (user ${s.userUs.toFixed(0)}, sys ${s.sysUs.toFixed(0)}; event-loop thread ${s.mainUs.toFixed(0)}), RSS ${Math.round(Number(rss) / 1024)} MB, load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
  }
  if ((process.env.BENCH_NODE_ARGS ?? '').includes('--trace-gc')) {
    const gc = t.childOutput().split('\n').filter((l) => /Mark-Compact|Scavenge|Mark-Sweep/.test(l));
    console.log(`${gc.length} GC lines; major ones and the last:\n${[...gc.filter((l) => /Mark/.test(l)), ...gc.slice(-3)].join("\n")}`);
  }
  if (process.env.BENCH_LOOP_DELAY === '1') console.log(t.childOutput().split('\n').filter((l) => l.startsWith('loop delay')).join('\n'));
  if (perfRun) {
    perfRun.kill('SIGINT');
    await new Promise((r) => perfRun!.once('exit', r));
  }
} finally {
  await t.stop();
}
const sorted = [...figures].sort((a, b) => a - b);
console.log(`gateway CPU µs/call at ${rate} calls/s: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)}, min ${sorted[0]!.toFixed(0)} (${figures.length} steps of ${seconds} s)`);

if (prof) {
  const file = existsSync(profDir) ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  if (!file) console.log('no profile written');
  else {
    interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
    const p = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as { nodes: Node[] };
    const self = new Map<string, number>();
    let total = 0;
    for (const n of p.nodes) {
      const h = n.hitCount ?? 0;
      total += h;
      const url = n.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/');
      const k = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber + 1}`;
      self.set(k, (self.get(k) ?? 0) + h);
    }
    const idle = [...self.entries()].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
    console.log(`\nprofile ${file}: ${total} samples, busy ${(((total - idle) / total) * 100).toFixed(1)} %; top self time (% of busy):`);
    for (const [k, v] of [...self.entries()].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.BENCH_PROF_TOP ?? 45))) {
      console.log(`${((v / (total - idle)) * 100).toFixed(2).padStart(6)} %  ${k}`);
    }
    console.log(`profile kept in ${profDir}`);
  }
}
if (perf) {
  printBreakdown(breakdown(join(base, 'perf.data')), undefined);
  const r = spawnSync('perf', ['report', '-i', join(base, 'perf.data'), '--no-children', '--stdio', '-g', 'none', '--percent-limit', '0.3', '--sort', 'dso,sym'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  console.log(r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).slice(0, Number(process.env.BENCH_PROF_TOP ?? 60)).join('\n'));
  console.log(`perf data kept in ${base}/perf.data`);
}
if (!prof && !perf) rmSync(base, { recursive: true, force: true });
