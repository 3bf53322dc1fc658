// Border protection under load (figures printed, never asserted). `bastion run` on the embedded
// default configuration (ports moved to free ones, the development PKI in a temporary folder) as
// a child process, then:
//  1. UDP flood: a flooder on 127.0.0.2 sends OPTIONS and INVITE as fast as it can for
//     BENCH_SECONDS while a legitimate peer on 127.0.0.3 sends 20 OPTIONS/s (retransmitting like
//     RFC 3261 Timer E): share of the legitimate requests answered within 1 s, how the flooder was
//     answered, the gateway's RSS and CPU;
//  2. TLS handshake flood: BENCH_HANDSHAKES full handshakes from 127.0.0.2 while a partner on
//     127.0.0.3 sends 20 OPTIONS/s over one TLS connection opened before.
// Each scenario runs per mode of BENCH_MODES: "on" (the default config's peer limits), "off"
// (the same config with `limits.peers.enabled: false`: the gateway as it was before them).
// A reference run with Kamailio (pike + sl on UDP) follows when it is installed.
// Every peer runs in a process of its own. Env: BENCH_SECONDS=10 BENCH_HANDSHAKES=2000
// BENCH_PER_IP=rate[/burst] (requests_per_ip of the "on" mode instead of the default config's)
// BENCH_MODES=off,on BENCH_PERF=1 (`perf record` of the gateway's CPU during the UDP flood, top
// symbols by self time; node --perf-basic-prof names the JS frames) BENCH_PROF=1 (V8 CPU profile
// of the gateway, only the samples of the UDP flood counted, top functions by self time).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { freePort } from '../test/interop/ports.js';
import { packageRoot } from '../src/gateway/config.js';
import { percentile, type FloodResult, type HandshakeFloodResult, type LegitResult } from '../src/limits/testing/load-peers.js';
import { kamailioAvailable } from '../test/interop/kamailio.js';
import { runPeer, type PeerKind } from '../src/limits/testing/peer-process.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const handshakes = Number(process.env.BENCH_HANDSHAKES ?? 2000);
const modes = (process.env.BENCH_MODES ?? 'off,on').split(',').filter(Boolean);
const perf = process.env.BENCH_PERF === '1';
const cpuProf = process.env.BENCH_PROF === '1';
const prof = perf || cpuProf;
const root = packageRoot();
const base = mkdtempSync(join(tmpdir(), 'bench-border-'));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

const rssMb = (pid: number): number => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};
const ticksOf = (stat: string): number => {
  const x = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) * 10;
};
const cpuMs = (pid: number): number => ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
/** CPU ms of the main thread (tid = pid) and of the process's other threads (GC, compiler, libuv pool). */
const threadCpuMs = (pid: number): [number, number] => {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const t = ticksOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      if (Number(tid) === pid) main += t;
      else other += t;
    } catch {
      // thread gone
    }
  }
  return [main, other];
};

function peer<T>(o: { kind: PeerKind } & Record<string, unknown>): Promise<T> {
  return runPeer<T>(o.kind, o, (kill) => children.add({ exitCode: null, kill } as unknown as ChildProcess));
}

interface Running {
  pid: number;
  udp: number;
  tls: number;
  log: string;
  child: ChildProcess;
}

async function startGateway(mode: string, name = mode): Promise<Running> {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const [udp, tls] = [await freePort(), await freePort()];
  const cfg = YAML.parse(readFileSync(join(root, 'config', 'default.yaml'), 'utf8')) as Record<string, any>;
  cfg.listen = [
    { transport: 'tls', address: '127.0.0.1', port: tls, server_domain: 'default' },
    { transport: 'udp', address: '127.0.0.1', port: udp },
    { transport: 'tcp', address: '127.0.0.1', port: udp },
  ];
  const pki = join(dir, 'pki');
  cfg.dev_pki.dir = pki;
  for (const d of [cfg.server_domains.default, cfg.client_domains.default]) {
    d.cert = join(pki, 'gateway.pem');
    d.key = join(pki, 'gateway.key');
    d.ca = [join(pki, 'ca.pem')];
  }
  cfg.policy.path = join(root, 'policies');
  if (mode === 'off') cfg.limits = { ...cfg.limits, peers: { enabled: false } };
  else if (process.env.BENCH_PER_IP) {
    const [rate, burst] = process.env.BENCH_PER_IP.split('/').map(Number);
    cfg.limits.peers = { ...cfg.limits.peers, requests_per_ip: { rate, burst: burst ?? rate * 2 } };
  }
  const file = join(dir, 'bastion.yaml');
  writeFileSync(file, YAML.stringify(cfg));
  const log = join(dir, 'stdout.log');
  const fd = openSync(log, 'w');
  const profArgs = perf ? ['--perf-basic-prof'] : cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'prof')}`] : [];
  const child = spawn(process.execPath, ['--max-semi-space-size=32', ...profArgs, '--import', 'tsx', join(root, 'test', 'interop', 'run-bastion.ts'), 'run', '--config', file], { cwd: root, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(child);
  const deadline = Date.now() + 600_000; // the policy compiles at start: slow on a busy machine
  while ((readFileSync(log, 'utf8').match(/"msg":"listening"/g) ?? []).length < 3) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bastion did not start:\n${readFileSync(log, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { pid: child.pid!, udp, tls, log, child };
}

/** Stops the gateway; returns its limit counters (logged at stop). */
async function stopGateway(g: Running): Promise<Record<string, number>> {
  if (g.child.exitCode === null) {
    g.child.kill('SIGTERM');
    await new Promise((r) => g.child.once('exit', r));
  }
  const line = readFileSync(g.log, 'utf8').split('\n').find((l) => l.includes('"msg":"limits: totals"'));
  return line ? (JSON.parse(line).limits as Record<string, number>) : {};
}

/** Samples RSS every 250 ms until stopped; returns [start, max, last]. */
function rssSampler(pid: number): () => [number, number, number] {
  const start = rssMb(pid);
  let max = start;
  let last = start;
  const t = setInterval(() => {
    last = rssMb(pid);
    max = Math.max(max, last);
  }, 250);
  return () => {
    clearInterval(t);
    return [start, max, last];
  };
}

function legitLine(r: LegitResult): string {
  const pct = (n: number) => `${((n / Math.max(1, r.sent)) * 100).toFixed(1)} %`;
  const l = r.latenciesMs;
  return `legitimate peer: ${r.sent} sent, ${r.within1s} answered within 1 s (${pct(r.within1s)}), ${r.answered} answered in all, ${r.firstTry} at the first transmission; latency p50 ${percentile(l, 50).toFixed(1)} ms, p99 ${percentile(l, 99).toFixed(1)} ms, max ${percentile(l, 100).toFixed(0)} ms; statuses ${JSON.stringify(r.statuses)}`;
}

function limitLines(log: string): { lines: number; byLimit: Record<string, number> } {
  const byLimit: Record<string, number> = {};
  let lines = 0;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line.includes('"msg":"limit:')) continue;
    lines++;
    const k = /"limit":"([^"]+)"/.exec(line)?.[1] ?? '?';
    byLimit[k] = (byLimit[k] ?? 0) + 1;
  }
  return { lines, byLimit };
}

const summary: string[] = [];
try {
  for (const mode of modes) {
    console.log(`\n--- limits ${mode} ---`);
    // 1. UDP flood
    let g = await startGateway(mode);
    // warm-up: the policy's first evaluations, the JIT; then the CPU of a quiet legitimate request
    await peer<LegitResult>({ kind: 'legitUdp', from: '127.0.0.3', port: g.udp, rate: 50, seconds: 2, graceMs: 2000 });
    const w0 = cpuMs(g.pid);
    const quiet = await peer<LegitResult>({ kind: 'legitUdp', from: '127.0.0.4', port: g.udp, rate: 50, seconds: 4, graceMs: 2000 });
    console.log(`no flood: ${quiet.answered}/${quiet.sent} answered, gateway CPU ${((cpuMs(g.pid) - w0) / quiet.sent).toFixed(2)} ms per OPTIONS (idle time included), load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
    let logLines0 = readFileSync(g.log, 'utf8').split('\n').length;
    let rss = rssSampler(g.pid);
    let cpu0 = cpuMs(g.pid);
    const threads0 = threadCpuMs(g.pid);
    const perfData = join(base, `perf-${mode}.data`);
    const perfRun = perf ? spawn('perf', ['record', '-e', 'cpu-clock', '-F', '1000', '-g', '-p', String(g.pid), '-o', perfData], { stdio: 'ignore' }) : undefined;
    const [flood, legit] = await Promise.all([
      peer<FloodResult>({ kind: 'udpFlood', from: '127.0.0.2', port: g.udp, seconds }),
      peer<LegitResult>({ kind: 'legitUdp', from: '127.0.0.3', port: g.udp, rate: 20, seconds }),
    ]);
    let cpu = cpuMs(g.pid) - cpu0;
    const threads1 = threadCpuMs(g.pid);
    if (perfRun) {
      perfRun.kill('SIGINT');
      await new Promise((r) => perfRun.once('exit', r));
    }
    let [r0, rmax, rend] = rss();
    const floodAnswered = Object.values(flood.replies).reduce((a, b) => a + b, 0);
    console.log(`UDP flood from 127.0.0.2: ${flood.sent} requests in ${flood.seconds.toFixed(1)} s (${Math.round(flood.sent / flood.seconds)}/s, flooder CPU ${((flood.cpuMs * 1000) / flood.sent).toFixed(1)} µs per request sent); final responses received ${floodAnswered} ${JSON.stringify(flood.replies)}; ${flood.sent - floodAnswered} unanswered (dropped or lost)`);
    console.log(legitLine(legit));
    const logLines = readFileSync(g.log, 'utf8').split('\n').length - logLines0;
    const ll = limitLines(g.log);
    console.log(`gateway: CPU ${(cpu / 1000).toFixed(1)} s over the flood (main thread ${((threads1[0] - threads0[0]) / 1000).toFixed(1)} s, other threads ${((threads1[1] - threads0[1]) / 1000).toFixed(1)} s), load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}, RSS ${r0.toFixed(0)} → max ${rmax.toFixed(0)} → ${rend.toFixed(0)} MB; ${logLines} log lines (${ll.lines} limit lines ${JSON.stringify(ll.byLimit)})`);
    summary.push(`limits ${mode.padEnd(3)} UDP flood: legitimate answered within 1 s ${((legit.within1s / legit.sent) * 100).toFixed(1)} % (first try ${((legit.firstTry / legit.sent) * 100).toFixed(1)} %), flooder ${Math.round(flood.sent / flood.seconds)}/s answered ${floodAnswered} ${JSON.stringify(flood.replies)}, RSS max ${rmax.toFixed(0)} MB`);
    const floodEnd = Date.now();
    if (perf) {
      const r = spawnSync('perf', ['report', '-i', perfData, '--no-children', '--stdio', '-g', 'none', '--percent-limit', '0.5', '--sort', 'dso,sym'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      console.log(r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).slice(0, 45).join('\n'));
    }

    // 2. TLS handshake flood (a fresh gateway: the UDP flood's leftovers do not count)
    const stoppedAt = Date.now();
    const totals = await stopGateway(g);
    if (cpuProf) printProfile(join(base, mode, 'prof'), (stoppedAt - floodEnd + 500) * 1000, (stoppedAt - floodEnd + seconds * 1000 + 500) * 1000);
    if (totals.requests_checked) {
      console.log(`gateway limit counters: ${JSON.stringify(totals)}; CPU per request checked ${((cpu * 1000) / totals.requests_checked).toFixed(1)} µs`);
    }
    g = await startGateway(mode, mode + '-tls');
    await peer<LegitResult>({ kind: 'legitTls', from: '127.0.0.3', port: g.tls, rate: 50, seconds: 1, graceMs: 2000 });
    logLines0 = readFileSync(g.log, 'utf8').split('\n').length;
    rss = rssSampler(g.pid);
    cpu0 = cpuMs(g.pid);
    const [hs, legitT] = await Promise.all([
      peer<HandshakeFloodResult>({ kind: 'tlsHandshakeFlood', from: '127.0.0.2', port: g.tls, count: handshakes, concurrency: 50 }),
      peer<LegitResult & { connectionLost: boolean }>({ kind: 'legitTls', from: '127.0.0.3', port: g.tls, rate: 20, seconds }),
    ]);
    cpu = cpuMs(g.pid) - cpu0;
    [r0, rmax, rend] = rss();
    console.log(`TLS handshake flood from 127.0.0.2: ${hs.attempted} connections in ${hs.seconds.toFixed(1)} s, ${hs.completed} handshakes completed, ${hs.refused} refused`);
    console.log(legitLine(legitT) + (legitT.connectionLost ? ' (connection lost!)' : ''));
    const ll2 = limitLines(g.log);
    console.log(`gateway: CPU ${(cpu / 1000).toFixed(1)} s, RSS ${r0.toFixed(0)} → max ${rmax.toFixed(0)} → ${rend.toFixed(0)} MB; ${readFileSync(g.log, 'utf8').split('\n').length - logLines0} log lines (${ll2.lines} limit lines ${JSON.stringify(ll2.byLimit)})`);
    console.log(`gateway limit counters: ${JSON.stringify(await stopGateway(g))}`);
    summary.push(`limits ${mode.padEnd(3)} TLS flood: legitimate answered within 1 s ${((legitT.within1s / legitT.sent) * 100).toFixed(1)} %, ${hs.completed}/${hs.attempted} handshakes completed in ${hs.seconds.toFixed(1)} s, gateway CPU ${(cpu / 1000).toFixed(1)} s, RSS max ${rmax.toFixed(0)} MB`);
  }
  if (kamailioAvailable() && process.env.BENCH_KAMAILIO !== '0') {
    const { kamailioFlood } = await import('./border/kamailio-flood.js');
    summary.push(...(await kamailioFlood(base, seconds)));
  }
} finally {
  console.log('\n' + summary.join('\n'));
  if (!prof && process.env.BENCH_KEEP !== '1') rmSync(base, { recursive: true, force: true });
  else console.log(`kept ${base}`);
}


/**
 * Top self time of the gateway's V8 profile, counting only samples taken between `fromEndUs`
 * and `toEndUs` before the profile's end (the flood; the gateway is stopped right after it).
 */
function printProfile(dir: string, fromEndUs: number, toEndUs: number): void {
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  if (!file) return void console.log('no profile written');
  interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const times: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas) times.push((t += d));
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const before = p.endTime - times[i]!;
    if (before < fromEndUs || before > toEndUs) continue;
    const n = byId.get(p.samples[i]!)!;
    const url = n.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/');
    const k = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber + 1}`;
    self.set(k, (self.get(k) ?? 0) + 1);
    total++;
  }
  const idle = self.get('(idle) :0') ?? 0;
  console.log(`profile of the flood: ${total} samples, busy ${(((total - idle) / Math.max(1, total)) * 100).toFixed(1)} %; top self time (% of busy):`);
  for (const [k, v] of [...self.entries()].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${((v / Math.max(1, total - idle)) * 100).toFixed(2).padStart(6)} %  ${k}`);
  }
}
