// Differential test: the evaluation pool (two worker threads) against the engine evaluating in its
// own thread, on the same policies and thousands of generated inputs: every decision, every
// failure (kind and message) and every decision-log line must be the same. The inputs come from
// a seeded generator (the same run every time): many connections (identities resident in the
// workers), inputs given whole and in parts, unicode and JSON escapes, reason phrases that break
// the decision schema, and a policy whose answers cover each way a decision fails closed:
// undefined, schema-invalid, conflicting rules, a strict builtin error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyEngine, type DecisionResult } from '../engine.js';
import { EncodedInput, type InputScope } from '../encoded-input.js';
import { compilerReady } from '../testing/compiler-ready.js';
import { captureLogger } from '../testing/capture-logger.js';
import { exampleInput, identities, messages } from '../testing/example-inputs.js';
import { EvalPool } from './pool.js';

const ready = await compilerReady();
const policiesDir = new URL('../../../policies/', import.meta.url).pathname;

// Each `x-case` header value selects one kind of answer.
const CASES_POLICY = `package sip

kind := k if {
	k := input.message.headers["x-case"][0]
} else := "default"

decision := {"allow": true} if kind == "allow"

# the Call-ID in the reason phrase: any text the input carries goes through the result's JSON
decision := {"allow": false, "reject": {"status": 486, "reason": concat(" ", ["Busy", input.message.call_id])}} if kind == "deny"

decision := {"allow": true, "alert_info": [sprintf("<urn:x:%s>", [input.message.from.user])]} if kind == "alert"

# normalized: a denial without reject gets 403 Forbidden
decision := {"allow": false} if kind == "noreject"

# schema-invalid
decision := {"allow": "yes"} if kind == "invalid"

# two complete rules with different values: a conflict error
decision := {"allow": true} if kind == "conflict"

decision := {"allow": false} if kind == "conflict"

# strict builtin errors: a Call-ID that is not a number is an error
decision := {"allow": to_number(input.message.call_id) > 0} if kind == "builtin"

# the resident identity: undefined without one
decision := {"allow": input.identity.verified} if kind == "identity"

decision := {"allow": false, "reject": {"status": 403, "reason": sprintf("%s from %s", [input.message.method, input.connection.remote.address])}} if kind == "default"

# kind "undefined" (or any other): no decision
`;

const KINDS = ['allow', 'deny', 'alert', 'noreject', 'invalid', 'conflict', 'builtin', 'identity', 'default', 'undefined'];

/** mulberry32: a small seeded generator, so that every run sees the same inputs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '7', '-', '.', '@', ' ', '"', '\\', '/', 'é', 'ß', '€', '中', '😀', '\u0001', '\t', '\u2028', '\n', '%'];

function text(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * (r() < 0.7 ? 8 : ALPHABET.length))];
  return s;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

interface Conn {
  scope: InputScope;
  head: Record<string, unknown>;
  identity: Record<string, unknown> | undefined;
}

/** A connection: its constant head and tail, as the gateway encodes them (src/gateway/input.ts). */
function connection(r: () => number, n: number): Conn {
  const name = pick(r, Object.keys(identities));
  const identity = r() < 0.85 ? identities[name] : undefined;
  const head = { direction: r() < 0.5 ? 'inbound' : 'outbound', transport: identity ? 'tls' : 'udp', connection: { local: { address: '127.0.0.1', port: 5061 }, remote: { address: `192.0.2.${n % 250}`, port: 40000 + n } } };
  const tail = identity ? JSON.stringify({ message: null, identity }).slice('{"message":null'.length) : '}';
  const subject = (identity?.subject as { string?: string } | undefined)?.string;
  return { scope: { tail: Buffer.from(tail), peer: { peer: { subject, verified: identity?.verified === true, presented: identity !== undefined, address: head.connection.remote.address } } }, head, identity };
}

interface Case {
  doc: Record<string, unknown>;
  encoded: () => EncodedInput;
}

/** A fixture message with random changes; `kind` picks the CASES_POLICY answer (undefined: none). */
function message(r: () => number, kind: string | undefined): Record<string, unknown> {
  const base = structuredClone(messages[pick(r, Object.keys(messages))]!) as Record<string, unknown> & { headers?: Record<string, string[]>; from?: Record<string, unknown> };
  base.call_id = r() < 0.1 ? String(Math.floor(r() * 1e6)) : `${text(r, 24)}@${text(r, 8)}`;
  if (base.from) base.from = { ...base.from, user: text(r, 12) };
  const headers = { ...(base.headers ?? {}) };
  if (kind) headers['x-case'] = [kind];
  for (let i = Math.floor(r() * 3); i > 0; i--) headers[`x-${text(r, 6).toLowerCase() || 'h'}`] = [text(r, 40)];
  base.headers = headers;
  if (base.kind === 'request' && r() < 0.2) base.method = pick(r, ['INVITE', 'OPTIONS', 'MESSAGE', 'BYE', 'REGISTER', 'FOO']);
  return base;
}

function generated(r: () => number, conns: Conn[], kind: () => string | undefined): Case {
  const c = pick(r, conns);
  const msg = message(r, kind());
  const doc: Record<string, unknown> = { ...c.head, message: msg, ...(c.identity ? { identity: c.identity } : {}) };
  const request = msg.kind === 'request';
  const cseq = msg.cseq as { method: string } | undefined;
  const log = {
    direction: c.head.direction as string,
    method: request ? (msg.method as string) : cseq?.method,
    status: request ? undefined : (msg.status as number),
    request_uri: request ? (msg.ruri as { uri?: string } | undefined)?.uri : undefined,
    call_id: msg.call_id as string,
    from: c.scope.peer,
  };
  return {
    doc,
    encoded: () => {
      // one in five handed over whole (no connection scope), the rest as the gateway does
      if (r() < 0.2) return new EncodedInput(new TextEncoder().encode(JSON.stringify(doc)).buffer, log);
      const h = JSON.stringify({ ...c.head, message: null });
      return EncodedInput.parts(Buffer.from(h.slice(0, h.length - 'null}'.length)), () => JSON.stringify(msg), c.scope, log);
    },
  };
}

function decide(pool: EvalPool, input: EncodedInput): Promise<DecisionResult> {
  return new Promise((resolve) => pool.decide(input, resolve));
}

/** A decision line without what differs between two evaluations of one input. */
function comparable(line: Record<string, unknown>): string {
  const { time: _t, timestamp: _s, decision_id: _d, eval_ns: _e, ...rest } = line;
  return JSON.stringify(rest);
}

async function pair(source: string): Promise<{ reference: PolicyEngine; engine: PolicyEngine; pool: EvalPool; here: ReturnType<typeof captureLogger>; there: ReturnType<typeof captureLogger> }> {
  const here = captureLogger();
  const there = captureLogger();
  // (budgets far above any stall of a loaded machine: time is not the subject here)
  const reference = new PolicyEngine({ source: { type: 'dir', path: source }, evalTimeoutMs: 60_000, decisionLog: { logger: here.logger } });
  const engine = new PolicyEngine({ source: { type: 'dir', path: source }, evalTimeoutMs: 60_000, decisionLog: { logger: there.logger } });
  expect((await reference.start()).ok).toBe(true);
  expect((await engine.start()).ok).toBe(true);
  const pool = await EvalPool.start(engine, { size: 2 });
  return { reference, engine, pool, here, there };
}

describe.skipIf(!ready)('evaluation pool against in-thread evaluation', () => {
  let dir: string;
  const pools: EvalPool[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-differential-'));
    await writeFile(join(dir, 'decision.rego'), CASES_POLICY);
  });

  afterAll(async () => {
    for (const p of pools) await p.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the same decisions, failures and decision-log lines on 3,000 generated inputs, each way of failing closed included', async () => {
    const { reference, pool, here, there } = await pair(dir);
    pools.push(pool);
    const r = rng(16);
    const conns = Array.from({ length: 120 }, (_, n) => connection(r, n));
    const cases = Array.from({ length: 3000 }, () => generated(r, conns, () => (r() < 0.95 ? pick(r, KINDS) : undefined)));
    const want = cases.map((c) => reference.decide(c.encoded()));
    // handed over in bursts, as messages arrive: some decided while others are still handed over
    const got: Promise<DecisionResult>[] = [];
    for (let k = 0; k < cases.length; k++) {
      got.push(decide(pool, cases[k]!.encoded()));
      if (k % 97 === 0) await new Promise((res) => setImmediate(res));
    }
    const results = await Promise.all(got);
    for (let k = 0; k < cases.length; k++) {
      const [a, b] = [results[k]!, want[k]!];
      expect({ decision: a.decision, failure: a.failure, revision: a.revision }, JSON.stringify(cases[k]!.doc).slice(0, 300)).toEqual({ decision: b.decision, failure: b.failure, revision: b.revision });
    }
    // every kind of outcome came up, and often
    const kinds = new Map<string, number>();
    for (const w of want) kinds.set(w.failure?.kind ?? (w.decision.allow ? 'allow' : 'deny'), (kinds.get(w.failure?.kind ?? (w.decision.allow ? 'allow' : 'deny')) ?? 0) + 1);
    for (const k of ['allow', 'deny', 'undefined', 'invalid', 'error']) expect(kinds.get(k) ?? 0, k).toBeGreaterThan(50);
    const messagesOf = new Set(want.filter((w) => w.failure?.kind === 'error').map((w) => w.failure!.message.split(':')[0]));
    expect(messagesOf.size).toBeGreaterThan(1); // conflicts and builtin errors both
    // the same lines (workers finish in their own order across Call-IDs: compared as multisets)
    const lines = (c: ReturnType<typeof captureLogger>) => c.lines.filter((l) => l.msg === 'decision').map(comparable).sort();
    const a = lines(there);
    expect(a).toHaveLength(cases.length);
    expect(a).toEqual(lines(here));
    expect(pool.stats.evaluated).toBe(cases.length);
  }, 240_000);

  it('gives the same decisions as the example policy in this thread, on every identity × mutated fixture message', async () => {
    const { reference, pool } = await pair(policiesDir);
    pools.push(pool);
    const r = rng(1678);
    const conns = Array.from({ length: 60 }, (_, n) => connection(r, n));
    const cases: Case[] = [];
    for (let k = 0; k < 1500; k++) cases.push(generated(r, conns, () => undefined));
    // and the fixtures unchanged, each identity, both directions
    for (const id of Object.keys(identities))
      for (const m of Object.keys(messages))
        for (const d of ['inbound', 'outbound'] as const) {
          const x = exampleInput(id, m, d);
          cases.push({ doc: x.doc, encoded: x.encoded });
        }
    const want = cases.map((c) => reference.decide(c.encoded()));
    const results = await Promise.all(cases.map((c) => decide(pool, c.encoded())));
    for (let k = 0; k < cases.length; k++) {
      expect({ decision: results[k]!.decision, failure: results[k]!.failure }, JSON.stringify(cases[k]!.doc).slice(0, 300)).toEqual({ decision: want[k]!.decision, failure: want[k]!.failure });
    }
    expect(new Set(want.map((w) => JSON.stringify(w.decision))).size).toBeGreaterThan(5);
    expect(want.filter((w) => w.decision.allow).length).toBeGreaterThan(20);
  }, 240_000);
});
