// The gateway's CPU per call without sockets: the proxy (transactions, policy, forwarding) fed
// real calls in memory. The messages are those of a call through the interop topology
// (bench/fixtures/call.json, recorded by bench/lib/capture-call.ts), made unique per call; the
// far ends answer what the gateway actually sends (its branches). Flows are in-memory Flow
// objects with the fixtures' identity documents, so the policy input is the gateway's own. What
// this leaves out (TLS, sockets, the kernel) is in gateway-cpu / gateway-sipp.
//
// Prints CPU µs per call of the event-loop thread and of the whole process (evaluation workers
// included), per decider: in the event-loop thread (policy.workers 0) and the evaluation pool.
// Run as `npm run bench -- proxy-loop` (bench/main.ts passes --expose-gc and the gateway's
// --max-semi-space-size=32).
// Env: BENCH_CALLS=20000 BENCH_CONCURRENCY=50 BENCH_DECIDERS="inline,pool" BENCH_PROF=1 (cpu profile
// of the event-loop thread, top functions printed; BENCH_PROF_OUT=/tmp/p writes /tmp/p-inline.cpuprofile)
import { readFileSync, readdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import pino from 'pino';
import { PolicyEngine } from '../src/policy/engine.js';
import { EvalPool } from '../src/policy/pool/pool.js';
import { Proxy, inThreadDecider, type Decider } from '../src/gateway/proxy.js';
import type { Egress } from '../src/gateway/egress.js';
import type { Flow, ListenerInfo } from '../src/gateway/flow.js';
import type { Resolver, Target } from '../src/gateway/nexthop.js';
import { TransactionLayer } from '../src/sip/transaction.js';
import { parseMessage } from '../src/sip/parser.js';
import { writeTestPolicy } from '../src/gateway/testing/topology.js';
import type { PeerIdentity } from '../src/tls/index.js';

const calls = Number(process.env.BENCH_CALLS ?? 20000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const deciders = (process.env.BENCH_DECIDERS ?? 'inline,pool').split(',');
const prof = process.env.BENCH_PROF === '1';
const alloc = process.env.BENCH_ALLOC === '1';

const capture = JSON.parse(readFileSync(new URL('./fixtures/call.json', import.meta.url), 'utf8')) as { messages: Array<{ flow: string; dir: 'recv' | 'send'; text: string }> };
const ids = JSON.parse(readFileSync(new URL('../policies/fixtures/identities.json', import.meta.url), 'utf8')).identities as Record<string, PeerIdentity>;

// the topology's ports, as in the capture
const MID_A = 46881;
const MID_B = 58709;
const A_TLS = 39175;
const B_TLS = 21308;

const listeners: ListenerInfo[] = [
  { transport: 'tls', address: '127.0.0.1', port: MID_A, serverDomain: 'fedA', hostport: `127.0.0.1:${MID_A}` },
  { transport: 'tls', address: '127.0.0.1', port: MID_B, serverDomain: 'fedB', hostport: `127.0.0.1:${MID_B}` },
];

/** An in-memory connection: what the gateway sends on it resolves the waiter of that call. */
class MemFlow implements Flow {
  static next = 1;
  readonly id = MemFlow.next++;
  readonly transport = 'tls' as const;
  readonly reliable = true;
  /** call number → waiters, by the start of what the gateway sends */
  waiters = new Map<number, Array<{ first: Buffer; resolve: (b: Buffer) => void }>>();
  constructor(
    readonly name: string,
    readonly local: Flow['local'],
    readonly remote: Flow['remote'],
    readonly identity: PeerIdentity,
    readonly listener?: ListenerInfo,
  ) {}
  send(data: Buffer): void {
    if (process.env.BENCH_DEBUG) console.log(this.name, 'sent:', data.toString('latin1').split('\r\n')[0]);
    // the call number leads the Call-ID ("<n>-<captured Call-ID>")
    const at = data.indexOf(CALL_ID_HEADER) + CALL_ID_HEADER.length;
    let n = 0;
    for (let i = at; data[i]! >= 0x30 && data[i]! <= 0x39; i++) n = n * 10 + data[i]! - 0x30;
    const ws = this.waiters.get(n);
    if (!ws) return;
    const k = ws.findIndex((w) => data.compare(w.first, 0, w.first.length, 0, w.first.length) === 0);
    if (k < 0) return;
    const [w] = ws.splice(k, 1);
    if (ws.length === 0) this.waiters.delete(n);
    w!.resolve(data);
  }
  expect(n: number, first: string): Promise<Buffer> {
    return new Promise((resolve) => {
      let ws = this.waiters.get(n);
      if (!ws) this.waiters.set(n, (ws = []));
      ws.push({ first: Buffer.from(first), resolve });
    });
  }
  get closed(): boolean {
    return false;
  }
  close(): void {}
}
const CALL_ID_HEADER = Buffer.from('\r\nCall-ID: ');

const flows = {
  'atlanta-in': new MemFlow('atlanta-in', { address: '127.0.0.1', port: MID_A, domain: 'fedA' }, { address: '127.0.0.1', port: 40001 }, ids['fed_a_sbc']!, listeners[0]),
  'biloxi-out': new MemFlow('biloxi-out', { address: '127.0.0.1', port: 40002, domain: 'fedB' }, { address: '127.0.0.1', port: B_TLS }, ids['fed_b_sbc']!),
  'biloxi-in': new MemFlow('biloxi-in', { address: '127.0.0.1', port: MID_B, domain: 'fedB' }, { address: '127.0.0.1', port: 40003 }, ids['fed_b_sbc']!, listeners[1]),
  'atlanta-out': new MemFlow('atlanta-out', { address: '127.0.0.1', port: 40004, domain: 'fedA' }, { address: '127.0.0.1', port: A_TLS }, ids['fed_a_sbc']!),
};

const egress: Egress = {
  listeners,
  listenerFor: (transport, clientDomain) => listeners.find((l) => l.transport === transport && l.serverDomain === clientDomain) ?? listeners[0],
  connectedFlow: (t: Target) => (t.port === B_TLS ? flows['biloxi-out'] : t.port === A_TLS ? flows['atlanta-out'] : undefined),
  connect: async (t: Target) => (t.port === B_TLS ? flows['biloxi-out'] : flows['atlanta-out']),
};
const resolver: Resolver = {
  resolve: async (uri) => [{ transport: 'tls', host: uri.host, port: uri.port ?? 5061 }],
  resolveNow: (uri) => [{ transport: 'tls', host: uri.host, port: uri.port ?? 5061 }],
};

// ---- the call, as templates ----------------------------------------------------------------
const recv = (flow: string, first: string) => capture.messages.find((m) => m.dir === 'recv' && m.flow === flow && m.text.startsWith(first))!.text;
const sentBy = (flow: string, first: string) => capture.messages.find((m) => m.dir === 'send' && m.flow === flow && m.text.startsWith(first))!.text;
const topBranch = (text: string) => /\r\nVia: [^;\r\n]*;branch=([^;,\s]+)/i.exec(text)![1]!;
const T = {
  invite: recv('atlanta-in', 'INVITE'),
  trying: recv('biloxi-out', 'SIP/2.0 100'),
  ringing: recv('biloxi-out', 'SIP/2.0 180'),
  ok: recv('biloxi-out', 'SIP/2.0 200'),
  ack: recv('atlanta-in', 'ACK'),
  bye: recv('biloxi-in', 'BYE'),
  byeOk: recv('atlanta-out', 'SIP/2.0 200'),
  gwInviteBranch: topBranch(sentBy('biloxi-out', 'INVITE')),
  gwByeBranch: topBranch(sentBy('atlanta-out', 'BYE')),
};
const callId = /\r\nCall-ID: ([^\r\n]+)/.exec(T.invite)![1]!;

/** The template made unique for call n: Call-ID, tags and branches (not the gateway's own). */
function unique(text: string, n: number, gwBranch?: string): Buffer {
  let s = text.split(callId).join(`${n}-${callId}`).replace(/tag=([0-9A-Za-z]+)/g, `tag=$1x${n}`);
  s = s.replace(/branch=z9hG4bK([^;,\s]+)/g, (all, b: string) => (`z9hG4bK${b}` === gwBranch ? all : `branch=z9hG4bK${n}x${b}`));
  return Buffer.from(s, 'latin1');
}

/** A call's messages, made before the clock starts; a response to the gateway gets its branch patched in. */
interface Call {
  n: number;
  invite: Buffer;
  trying: Buffer;
  ringing: Buffer;
  ok: Buffer;
  ack: Buffer;
  bye: Buffer;
  byeOk: Buffer;
}
function makeCall(n: number): Call {
  return {
    n,
    invite: unique(T.invite, n),
    trying: unique(T.trying, n, T.gwInviteBranch),
    ringing: unique(T.ringing, n, T.gwInviteBranch),
    ok: unique(T.ok, n, T.gwInviteBranch),
    ack: unique(T.ack, n),
    bye: unique(T.bye, n),
    byeOk: unique(T.byeOk, n, T.gwByeBranch),
  };
}

/** Overwrites the captured gateway branch in `msg` with the one the gateway used this time (same length). */
function patchBranch(msg: Buffer, captured: string, sent: Buffer): Buffer {
  const at = sent.indexOf(';branch=') + 8;
  const end = sent.indexOf(0x0d, at);
  const actual = sent.subarray(at, end);
  let i = msg.indexOf(captured);
  if (actual.length !== captured.length) return Buffer.from(msg.toString('latin1').split(captured).join(actual.toString('latin1')), 'latin1');
  while (i >= 0) {
    actual.copy(msg, i);
    i = msg.indexOf(captured, i + 1);
  }
  return msg;
}

/**
 * Each message in a callback of its own, as from a socket: without the yield a call's messages
 * would all run as promise continuations, timers would never fire during the run, and every
 * transaction (Timer J/K = 0 on connections) would stay on the heap until the end.
 */
async function deliver(proxy: Proxy, flow: MemFlow, bytes: Buffer): Promise<void> {
  await new Promise(setImmediate);
  proxy.onMessage(flow, parseMessage(bytes));
}

async function oneCall(proxy: Proxy, c: Call): Promise<void> {
  const A = flows['atlanta-in'];
  const B = flows['biloxi-out'];
  const n = c.n;
  const fwdInvite = B.expect(n, 'INVITE');
  const got100 = A.expect(n, 'SIP/2.0 100');
  await deliver(proxy, A, c.invite);
  await got100;
  const inv = await fwdInvite;
  const got180 = A.expect(n, 'SIP/2.0 180');
  const got200 = A.expect(n, 'SIP/2.0 200');
  await deliver(proxy, B, patchBranch(c.trying, T.gwInviteBranch, inv));
  await deliver(proxy, B, patchBranch(c.ringing, T.gwInviteBranch, inv));
  await deliver(proxy, B, patchBranch(c.ok, T.gwInviteBranch, inv));
  await got180;
  await got200;
  const fwdAck = B.expect(n, 'ACK');
  await deliver(proxy, A, c.ack);
  await fwdAck;
  const fwdBye = flows['atlanta-out'].expect(n, 'BYE');
  const gotByeOk = flows['biloxi-in'].expect(n, 'SIP/2.0 200');
  await deliver(proxy, flows['biloxi-in'], c.bye);
  const bye = await fwdBye;
  await deliver(proxy, flows['atlanta-out'], patchBranch(c.byeOk, T.gwByeBranch, bye));
  await gotByeOk;
}

function threadTicks(): { main: number; all: number } {
  let all = 0;
  let main = 0;
  for (const t of readdirSync('/proc/self/task')) {
    const s = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    all += ticks;
    if (Number(t) === process.pid) main = ticks;
  }
  return { main, all };
}

async function run(proxy: Proxy, batch: Call[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < batch.length) await oneCall(proxy, batch[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const makeCalls = (first: number, count: number) => Array.from({ length: count }, (_, k) => makeCall(first + k));

const dir = mkdtempSync(join(tmpdir(), 'proxy-loop-'));
const policyDir = writeTestPolicy(join(dir, 'policy'), { host: '127.0.0.1', port: B_TLS });
const logger = process.env.BENCH_DEBUG ? pino({ level: 'info' }) : pino({ level: 'info' }, pino.destination({ dest: join(dir, 'decisions.log'), sync: false, minLength: 8192 }));
console.log(`${calls} calls, ${concurrency} at a time; decision log ${process.env.BENCH_DECISIONS === '0' ? 'off' : 'on (file)'}`);
let callNo = 0;
for (const kind of deciders) {
  // (a budget far above any stall of a loaded machine: a fail-closed ACK would stop the call)
  const engine = new PolicyEngine({ source: { type: 'dir', path: policyDir }, compileInWorker: true, evalTimeoutMs: 60_000, decisionLog: process.env.BENCH_DECISIONS === '0' ? undefined : { logger } });
  const r = await engine.start();
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const pool = kind === 'pool' ? await EvalPool.start(engine, { size: 1 }) : undefined;
  const decider: Decider = pool ?? inThreadDecider(engine);
  const proxy = new Proxy({ egress, policy: decider, resolver, logger: pino({ level: process.env.BENCH_DEBUG ? 'debug' : 'warn' }), layer: new TransactionLayer(), localNames: ['gw.bastion.example'] });
  await run(proxy, makeCalls(callNo, Math.min(2000, calls))); // warm-up
  if (process.env.BENCH_DEBUG) console.log("warm-up done");
  callNo += 2000;
  const session = prof || alloc ? new Session() : undefined;
  if (session) session.connect();
  if (session && prof) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  if (session && alloc) await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  const fullGc = (globalThis as { gc?: () => void }).gc;
  const settle = () => {
    for (let k = 0; k < 3; k++) fullGc!();
    return getHeapStatistics().used_heap_size;
  };
  const heapBefore = fullGc ? settle() : 0;
  if (process.env.BENCH_HEAP) (await import('node:v8')).writeHeapSnapshot(`${process.env.BENCH_HEAP}-before.heapsnapshot`);
  const batch = makeCalls(callNo, calls);
  // the prepared messages are old before the clock starts (else young-generation collections would copy them)
  if (fullGc) settle();
  else console.log('(run with node --expose-gc for figures free of the prepared messages\' garbage collection)');
  const gc = { minor: 0, major: 0, minorMs: 0, majorMs: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) (gc.minor++, (gc.minorMs += e.duration));
      else (gc.major++, (gc.majorMs += e.duration));
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const t0 = threadTicks();
  const w0 = Date.now();
  await run(proxy, batch);
  callNo += calls;
  const t1 = threadTicks();
  const wall = Date.now() - w0;
  obs.disconnect();
  if (fullGc) {
    // what the completed calls leave on the heap (transactions in RFC 6026's Accepted state for 32 s)
    batch.length = 0;
    const used = settle();
    if (process.env.BENCH_HEAP) (await import('node:v8')).writeHeapSnapshot(`${process.env.BENCH_HEAP}-after.heapsnapshot`);
    console.log(`        retained after the run: ${((used - heapBefore) / calls / 1024).toFixed(1)} KB per call (${proxy.layer.size.server} server, ${proxy.layer.size.client} client transactions)`);
  }
  const heap = getHeapStatistics();
  console.log(`        GC: ${gc.minor} minor (${gc.minorMs.toFixed(0)} ms), ${gc.major} other (${gc.majorMs.toFixed(0)} ms); heap used ${(heap.used_heap_size / 1048576).toFixed(0)} MB`);
  console.log(`${kind.padEnd(6)}: event-loop thread ${(((t1.main - t0.main) * 1e4) / calls).toFixed(0)} µs/call, whole process ${(((t1.all - t0.all) * 1e4) / calls).toFixed(0)} µs/call, ${((calls / wall) * 1000).toFixed(0)} calls/s${pool ? `; pool ${JSON.stringify(pool.stats)}` : ''}`);
  if (session && alloc) {
    interface HNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HNode[] }
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HNode } };
    const self = new Map<string, number>();
    let total = 0;
    const walk = (n: HNode) => {
      const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
      self.set(k, (self.get(k) ?? 0) + n.selfSize);
      total += n.selfSize;
      n.children.forEach(walk);
    };
    walk(profile.head);
    console.log(`allocation samples: ${(total / 1048576).toFixed(1)} MB allocated (sampled, collected or not); by allocating function:`);
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${((v / total) * 100).toFixed(2).padStart(6)} %  ${k}`);
  }
  if (session && prof) {
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }> } };
    if (process.env.BENCH_PROF_OUT) writeFileSync(`${process.env.BENCH_PROF_OUT}-${kind}.cpuprofile`, JSON.stringify(profile));
    const self = new Map<string, number>();
    let total = 0;
    for (const n of profile.nodes) {
      const h = n.hitCount ?? 0;
      total += h;
      const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
      self.set(k, (self.get(k) ?? 0) + h);
    }
    const idle = self.get('(idle) :0') ?? 0;
    for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.BENCH_PROF_TOP ?? 40))) console.log(`${((v / (total - idle)) * 100).toFixed(2).padStart(6)} %  ${k}`);
  }
  await pool?.close();
  engine.close();
}
logger.flush();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
