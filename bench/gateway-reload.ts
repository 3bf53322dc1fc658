// Reloads under load: sipp at 500 calls/s for 60 s through sipp → Kamailio → sip-bastion (child
// process, decision log on) → Kamailio → sipp, once without reloads and once with a reload
// (SIGHUP) every 5 s, each on a fresh topology. Every second reload comes with a changed policy
// (a comment appended to a module: a new revision, compiled in a worker), the others with the
// config and policy as they are. Both runs are printed: calls, failed calls, retransmissions,
// INVITE→200, reloads (and how many compiled a new policy), the gateway's worst event-loop delay.
// Both Kamailio edges send from 127.0.0.1 and each carries all the calls of its side (~1,500
// requests/s at 500 calls/s), so they are exempt from the per-peer limits, as an operator exempts
// federation proxies: the default 100 requests/s per address would answer most of them 503.
//
// Then the cost of one reload at idle on the built gateway: CPU time of the process (all its
// threads) from the signal until the reload is logged, for an unchanged policy and a changed one.
//
// Env: BENCH_RELOAD_RATE=500 BENCH_RELOAD_SECONDS=60 BENCH_RELOAD_EVERY_S=5
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTopology, type Topology } from '../test/interop/topology.js';
import { kamailioAvailable } from '../test/interop/kamailio.js';
import { runCalls, type CallRun } from './lib/sipp-run.js';

const rate = Number(process.env.BENCH_RELOAD_RATE ?? 500);
const seconds = Number(process.env.BENCH_RELOAD_SECONDS ?? 60);
const every = Number(process.env.BENCH_RELOAD_EVERY_S ?? 5);
const CLK_TCK = 100;

if (!kamailioAvailable()) {
  console.log('gateway-reload: kamailio/sipp not installed; skipped');
  process.exit(0);
}

/** CPU ticks (user + system, all threads) of a process. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** The gateway's log lines (its log file) with this message, from byte `from` on. */
function logLines(t: Topology, msg: string, from = 0): Record<string, unknown>[] {
  const file = join(t.dir, 'bastion.log');
  if (!existsSync(file)) return [];
  const text = readFileSync(file).subarray(from).toString('utf8');
  return text.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const logSize = (t: Topology) => {
  const file = join(t.dir, 'bastion.log');
  return existsSync(file) ? statSync(file).size : 0;
};

/** Worst event-loop delay the child reported (BENCH_LOOP_DELAY=1 lines on its stderr) since `from`. */
function worstLoopDelay(out: string): number {
  let worst = 0;
  for (const m of out.matchAll(/loop delay max (\d+) ms/g)) worst = Math.max(worst, Number(m[1]));
  return worst;
}

async function until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

interface RunFigures extends CallRun {
  reloads: number;
  reloadsLogged: number;
  /** reloads that put a new policy revision in force */
  policyChanged: number;
  reloadsRefused: number;
  loopDelayMaxMs: number;
}

async function oneRun(base: string, withReloads: boolean): Promise<RunFigures> {
  const t = await startTopology(join(base, withReloads ? 'with-reloads' : 'without'), 'bastion-process', { decisions: true, quiet: true, env: { BENCH_LOOP_DELAY: '1' }, exemptEdges: true });
  try {
    const warm = await runCalls(t, 50, 250, join(t.dir, 'warmup'));
    if (warm.ok !== 250) console.log(`  (warm-up not clean: ok ${warm.ok}/250, failed ${warm.failed})`);
    const outFrom = t.childOutput().length;
    const logFrom = logSize(t);
    const pid = t.middlePids()[0]!;
    let reloads = 0;
    const r = await runCalls(t, rate, rate * seconds, join(t.dir, 'run'), async () => {
      if (!withReloads) return;
      for (let at = every; at < seconds; at += every) {
        await new Promise((res) => setTimeout(res, every * 1000));
        // every second reload: a new policy revision (compiled in a worker while calls go on)
        if (reloads % 2 === 1) appendFileSync(join(t.dir, 'policy', 'sip', 'decision.rego'), `\n# reload ${reloads} ${Date.now()}\n`);
        process.kill(pid, 'SIGHUP');
        reloads++;
      }
    });
    await new Promise((res) => setTimeout(res, 1500)); // the log reaches the file
    const reloaded = logLines(t, 'reloaded', logFrom) as Array<{ policy?: { changed?: boolean } }>;
    return {
      ...r,
      reloads,
      reloadsLogged: reloaded.length,
      policyChanged: reloaded.filter((l) => l.policy?.changed === true).length,
      reloadsRefused: logLines(t, 'reload refused; the running configuration stays', logFrom).length,
      loopDelayMaxMs: worstLoopDelay(t.childOutput().slice(outFrom)),
    };
  } finally {
    await t.stop();
  }
}

/**
 * The cost of one reload at idle, on the built gateway (`bin/bastion.js` → dist/, as operators run
 * it; the example policy, a UDP listener, logs on stdout): CPU of the process (all its threads)
 * from SIGHUP to its 'reloaded' line, and the wall time, with the policy unchanged and changed.
 */
async function reloadCosts(dir: string): Promise<Array<{ change: boolean; cpuMs: number; wallMs: number; changed: unknown }>> {
  const root = join(import.meta.dirname, '..');
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) return [];
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, 'policies'), join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'cfg.yaml'), 'listen:\n  - {transport: udp, address: 127.0.0.1, port: 0}\npolicy: {path: policies}\nlog: {level: info}\n');
  const p = spawn(process.execPath, ['--max-semi-space-size=32', join(root, 'bin', 'bastion.js'), 'run', '--config', join(dir, 'cfg.yaml')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BASTION_NO_REEXEC: '1' } });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (out += d));
  const lines = (msg: string) => out.split('\n').filter((l) => l.includes(`"msg":"${msg}"`));
  try {
    if (!(await until(() => lines('sip-bastion running').length > 0, 300_000))) throw new Error(`gateway did not start: ${out.slice(-400)}`);
    await new Promise((r) => setTimeout(r, 2000));
    const rows = [];
    for (const change of [false, false, false, true]) {
      if (change) appendFileSync(join(dir, 'policies', 'sip', 'decision.rego'), `\n# changed ${Date.now()}\n`);
      const n = lines('reloaded').length;
      const c0 = cpuTicks(p.pid!);
      const t0 = Date.now();
      process.kill(p.pid!, 'SIGHUP');
      const ok = await until(() => lines('reloaded').length > n, 300_000);
      const wallMs = ok ? Date.now() - t0 : NaN;
      const line = JSON.parse(lines('reloaded')[n] ?? '{}') as { policy?: { changed?: unknown } };
      rows.push({ change, cpuMs: ((cpuTicks(p.pid!) - c0) / CLK_TCK) * 1000, wallMs, changed: line.policy?.changed });
    }
    return rows;
  } finally {
    p.kill('SIGTERM');
  }
}

const base = mkdtempSync(join(tmpdir(), 'bench-reload-'));
try {
  console.log(`sipp at ${rate} calls/s for ${seconds} s (100 ms calls) through Kamailio → sip-bastion → Kamailio; reloads (SIGHUP) every ${every} s in the second run`);
  const runs: Array<[string, RunFigures]> = [];
  for (const withReloads of [false, true]) {
    const f = await oneRun(base, withReloads);
    const name = withReloads ? `with a reload every ${every} s` : 'without reloads';
    runs.push([name, f]);
    console.log(`  ${name}: ok ${f.ok}/${f.calls}, failed ${f.failed}, retransmissions ${f.retrans}, INVITE→200 ${f.rtdMs.toFixed(0)} ms, reloads ${f.reloads} (logged ${f.reloadsLogged}, ${f.policyChanged} with a new policy, ${f.reloadsRefused} refused), worst event-loop delay ${f.loopDelayMaxMs} ms`);
    for (const e of f.errors.slice(0, 10)) console.log(`    ${e}`);
  }
  console.log('\n| run | calls | ok | failed | retransmissions | INVITE→200 ms | reloads (new policy) | worst loop delay ms |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, f] of runs) console.log(`| ${name} | ${f.calls} | ${f.ok} | ${f.failed} | ${f.retrans} | ${f.rtdMs.toFixed(0)} | ${f.reloads} (${f.policyChanged}) | ${f.loopDelayMaxMs} |`);
  const [quiet, busy] = [runs[0]![1], runs[1]![1]];
  const lossless = busy.failed === 0 && busy.ok === busy.calls && busy.reloadsLogged === busy.reloads;
  console.log(`\nwith reloads: ${busy.calls - busy.ok} calls not completed, ${busy.failed} failed, ${busy.retrans - quiet.retrans >= 0 ? '+' : ''}${busy.retrans - quiet.retrans} retransmissions against the run without (${lossless ? 'nothing lost' : 'LOST CALLS'})`);

  // the cost of one reload, at idle, on the built gateway
  const costs = await reloadCosts(join(base, 'idle'));
  if (costs.length === 0) console.log('\n(dist/ not built: no reload cost at idle; npm run build)');
  else {
    console.log('\none reload at idle (built gateway, example policy): CPU of all its threads from SIGHUP to the reload line, and wall time');
    console.log('| policy | CPU ms | wall ms | reload line says changed |');
    console.log('|---|---:|---:|---|');
    for (const c of costs) console.log(`| ${c.change ? 'changed (compiled in a worker at nice 10)' : 'unchanged'} | ${c.cpuMs.toFixed(0)} | ${c.wallMs.toFixed(0)} | ${String(c.changed)} |`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
