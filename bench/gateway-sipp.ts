// sipp UAC → Kamailio atlanta → MIDDLE → Kamailio biloxi → sipp UAS at increasing call rates,
// MIDDLE = Kamailio (tm, record-route, mTLS both legs) and sip-bastion in the same run.
// Prints per step: failed calls, retransmissions, middle CPU µs per call; per middle: highest
// clean rate; the ratio; sip-bastion's decision latency p50/p99 (from its decision log).
// Env: BENCH_RATES="50,100,200" BENCH_SECONDS=6 BENCH_MIDDLES="kamailio,bastion-process".
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTopology, type MiddleKind, type Topology } from '../test/interop/topology.js';
import { startSipp } from '../test/interop/sipp.js';
import { kamailioAvailable } from '../test/interop/kamailio.js';

const rates = (process.env.BENCH_RATES ?? '50,100,200,400,800,1200,1600,2000').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const middles = (process.env.BENCH_MIDDLES ?? 'kamailio,bastion-process').split(',') as MiddleKind[];
const CLK_TCK = 100;

function cpuTicks(pid: number): number {
  // the process and its children (Kamailio forks workers)
  let total = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      if (Number(d) === pid || ppid === pid) total += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return total;
}

function sippStats(file: string): { failed: number; retrans: number; ok: number } {
  if (!existsSync(file)) return { failed: -1, retrans: -1, ok: 0 };
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (n: string) => Number(last[head.indexOf(n)] ?? -1);
  return { failed: col('FailedCall(C)'), retrans: col('Retransmissions(C)'), ok: col('SuccessfulCall(C)') };
}

interface Step {
  rate: number;
  calls: number;
  ok: number;
  failed: number;
  retrans: number;
  cpuUsPerCall: number;
}

async function runStep(t: Topology, rate: number, dir: string): Promise<Step> {
  mkdirSync(dir, { recursive: true });
  const calls = Math.max(20, Math.round(rate * seconds));
  const uas = startSipp({ scenario: 'uas', dir, localPort: t.ports.uas, calls, timeoutS: seconds + 40 });
  await new Promise((r) => setTimeout(r, 300));
  const pids = t.middlePids();
  const before = pids.reduce((s, p) => s + cpuTicks(p), 0);
  const uac = startSipp({ scenario: 'uac', dir, localPort: t.ports.uac, remote: `127.0.0.1:${t.ports.aUdp}`, calls, rate, limit: Math.max(200, rate * 2), service: 'bob', timeoutS: seconds + 30 });
  await uac.done;
  const after = pids.reduce((s, p) => s + cpuTicks(p), 0);
  uas.stop();
  await uas.done;
  const s = sippStats(join(dir, 'uac-stat.csv'));
  const u = sippStats(join(dir, 'uas-stat.csv'));
  return { rate, calls, ok: s.ok, failed: s.failed, retrans: s.retrans + Math.max(0, u.retrans), cpuUsPerCall: ((after - before) / CLK_TCK / Math.max(1, s.ok)) * 1e6 };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

if (!kamailioAvailable()) {
  console.log('gateway-sipp: kamailio/sipp not installed; skipped');
  process.exit(0);
}

const results = new Map<MiddleKind, Step[]>();
let latency: { p50: number; p99: number; n: number } | undefined;
for (const middle of middles) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${middle}-`));
  const t = await startTopology(dir, middle, { decisions: true });
  const steps: Step[] = [];
  try {
    await runStep(t, 5, join(dir, 'warmup')); // opens the long-lived TLS connections
    for (const rate of rates) {
      const st = await runStep(t, rate, join(dir, `r${rate}`));
      steps.push(st);
      console.log(`${middle.padEnd(16)} ${String(rate).padStart(5)} calls/s: ok ${st.ok}/${st.calls}, failed ${st.failed}, retrans ${st.retrans}, middle CPU ${st.cpuUsPerCall.toFixed(0)} µs/call`);
      if (st.failed !== 0 || st.retrans !== 0 || st.ok < st.calls) break;
    }
    if (middle !== 'kamailio') {
      const logFile = join(dir, 'bastion.log');
      if (existsSync(logFile)) {
        const evals = readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"msg":"decision"'))
          .map((l) => (JSON.parse(l) as { eval_ns: number }).eval_ns / 1000);
        latency = { p50: percentile(evals, 50), p99: percentile(evals, 99), n: evals.length };
      }
    }
  } finally {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  results.set(middle, steps);
}

const best = (steps: Step[]) => steps.filter((s) => s.failed === 0 && s.retrans === 0 && s.ok === s.calls).reduce((m, s) => Math.max(m, s.rate), 0);
console.log('\n| middle | highest clean calls/s | CPU µs/call at that rate |');
console.log('|---|---|---|');
for (const [m, steps] of results) {
  const b = best(steps);
  const at = steps.find((s) => s.rate === b);
  console.log(`| ${m} | ${b} | ${at ? at.cpuUsPerCall.toFixed(0) : '-'} |`);
}
const k = results.get('kamailio');
const g = results.get('bastion-process') ?? results.get('bastion');
if (k && g) console.log(`\nratio sip-bastion / Kamailio (highest clean rate): ${(best(g) / Math.max(1, best(k))).toFixed(2)}`);
if (latency) console.log(`sip-bastion decision latency over ${latency.n} decisions: p50 ${latency.p50.toFixed(0)} µs, p99 ${latency.p99.toFixed(0)} µs`);
