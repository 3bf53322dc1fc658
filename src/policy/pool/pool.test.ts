// The evaluation pool with real worker threads and real policies: the same decisions and
// decision-log lines as the engine makes in this thread; decisions of one Call-ID in hand-over
// order across two workers; reloads that switch every worker at once; an evaluation that never
// ends (a policy that spins) abandoned at the budget, its worker replaced, the queue behind it
// served; a worker that dies replaced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyEngine } from '../engine.js';
import type { DecisionResult } from '../engine.js';
import { EncodedInput } from '../encoded-input.js';
import { compilerReady } from '../testing/compiler-ready.js';
import { captureLogger } from '../testing/capture-logger.js';
import { allExampleInputs, exampleInput } from '../testing/example-inputs.js';
import { EvalPool } from './pool.js';

const ready = await compilerReady();
const policiesDir = new URL('../../../policies/', import.meta.url).pathname;

function decide(pool: EvalPool, input: EncodedInput): Promise<DecisionResult> {
  return new Promise((resolve) => pool.decide(input, resolve));
}

/** A decision line without what differs between two evaluations of the same input. */
function comparable(line: Record<string, unknown>): Record<string, unknown> {
  const { time: _t, timestamp: _s, decision_id: _d, eval_ns: _e, ...rest } = line;
  return rest;
}

describe.skipIf(!ready)('EvalPool on the example policy (2 workers)', () => {
  const inThread = captureLogger();
  const pooled = captureLogger();
  let reference: PolicyEngine;
  let engine: PolicyEngine;
  let pool: EvalPool;

  beforeAll(async () => {
    // (budgets far above any stall of a loaded machine: time is not the subject here)
    reference = new PolicyEngine({ source: { type: 'dir', path: policiesDir }, evalTimeoutMs: 30_000, decisionLog: { logger: inThread.logger } });
    engine = new PolicyEngine({ source: { type: 'dir', path: policiesDir }, evalTimeoutMs: 30_000, decisionLog: { logger: pooled.logger } });
    expect((await reference.start()).ok).toBe(true);
    expect((await engine.start()).ok).toBe(true);
    pool = await EvalPool.start(engine, { size: 2 });
  }, 240_000);

  afterAll(async () => {
    await pool?.close();
  });

  it('decides every fixture input as the engine does in its own thread, with the same decision-log line', async () => {
    const inputs = allExampleInputs();
    const here = inputs.map((c) => reference.decide(c.encoded()));
    const there = await Promise.all(inputs.map((c) => decide(pool, c.encoded())));
    for (let k = 0; k < inputs.length; k++) {
      expect(there[k]!.decision, inputs[k]!.name).toEqual(here[k]!.decision);
      expect(there[k]!.failure, inputs[k]!.name).toEqual(here[k]!.failure);
      expect(there[k]!.revision).toBe(here[k]!.revision);
    }
    expect(new Set(there.map((r) => JSON.stringify(r.decision))).size).toBeGreaterThan(5);
    const lines = (c: ReturnType<typeof captureLogger>) => c.lines.filter((l) => l.msg === 'decision').map(comparable);
    expect(lines(pooled)).toEqual(lines(inThread));
    expect(pool.stats.evaluated).toBe(inputs.length);
  });

  it('answers the messages of one Call-ID in the order they were handed over', async () => {
    const steps = ['invite_atlanta_to_biloxi', 'response_200_invite', 'message_to_bob', 'bye_to_ip', 'options_to_gateway'];
    const order = new Map<string, string[]>();
    const all: Promise<unknown>[] = [];
    for (const step of steps) {
      for (let call = 0; call < 40; call++) {
        const callId = `call-${call}`;
        const input = exampleInput(call % 2 ? 'fed_a_sbc' : 'rogue_peer', step, 'inbound', callId).encoded();
        all.push(decide(pool, input).then(() => order.set(callId, [...(order.get(callId) ?? []), step])));
      }
    }
    await Promise.all(all);
    for (const [, seen] of order) expect(seen).toEqual(steps);
    expect(order.size).toBe(40);
  });

  it('reuses a response decision the policy declares per connection, without a worker', async () => {
    const { reused, evaluated } = pool.stats;
    // (a connection of its own: the other tests have answered responses on the fixtures' ones)
    const r = () => exampleInput('fed_b_sbc', 'response_200_invite', 'outbound').encoded();
    const first = await decide(pool, r());
    const second = await decide(pool, r());
    expect(first.eval_ns).toBeGreaterThan(0);
    expect(second.eval_ns).toBe(0);
    expect(second.decision).toEqual(first.decision);
    expect(pool.stats.reused).toBe(reused + 1);
    expect(pool.stats.evaluated).toBe(evaluated + 1);
    expect(pooled.lines.find((l) => l.decision_id === second.decision_id)).toMatchObject({ reused_from: first.decision_id, eval_ns: 0 });
  });
});

const SPIN_POLICY = `package sip

r := numbers.range(1, 20000)

# never ends for SPIN: 8e12 steps, none of which allocates
spin if {
	input.message.method == "SPIN"
	some a in r
	some b in r
	some c in r
	a > b
	b > c
	c > a
}

decision := {"allow": false, "reject": {"status": 488, "reason": data.config.v}} if not spin
`;

function plainInput(method: string, callId: string): EncodedInput {
  const doc = { direction: 'inbound', transport: 'udp', message: { kind: 'request', method, call_id: callId } };
  return new EncodedInput(new TextEncoder().encode(JSON.stringify(doc)).buffer, { direction: 'inbound', method, call_id: callId, from: { peer: { verified: false, presented: false } } });
}

describe.skipIf(!ready)('EvalPool: reloads, stuck evaluations, dying workers', () => {
  let dir: string;
  let engine: PolicyEngine;
  let pool: EvalPool;
  const log = captureLogger();
  const setVersion = (v: string) => writeFile(join(dir, 'data.json'), JSON.stringify({ config: { v } }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-pool-'));
    await writeFile(join(dir, 'decision.rego'), SPIN_POLICY);
    await setVersion('v1');
    engine = new PolicyEngine({ source: { type: 'dir', path: dir }, evalTimeoutMs: 200, decisionLog: { logger: log.logger } });
    expect((await engine.start()).ok).toBe(true);
    pool = await EvalPool.start(engine, { size: 2 });
  }, 240_000);

  afterAll(async () => {
    await pool?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('switches every worker to a reloaded policy at once: each decision is wholly one revision', async () => {
    const first = engine.info!.revision;
    const before = Array.from({ length: 30 }, (_, k) => decide(pool, plainInput('MESSAGE', `before-${k}`)));
    await setVersion('v2');
    const reloading = engine.reload();
    const during = Array.from({ length: 30 }, (_, k) => decide(pool, plainInput('MESSAGE', `during-${k}`)));
    const r = await reloading;
    expect(r.ok && r.changed).toBe(true);
    const second = engine.info!.revision;
    expect(second).not.toBe(first);
    const after = Array.from({ length: 30 }, (_, k) => decide(pool, plainInput('MESSAGE', `after-${k}`)));
    const reason = (d: DecisionResult) => d.decision.reject?.reason;
    for (const d of await Promise.all(before)) expect([reason(d), d.revision]).toEqual(['v1', first]);
    for (const d of await Promise.all(during)) expect([[reason(d), d.revision]]).toContainEqual(reason(d) === 'v1' ? ['v1', first] : ['v2', second]);
    for (const d of await Promise.all(after)) expect([reason(d), d.revision]).toEqual(['v2', second]);
  });

  it('abandons an evaluation that never ends: fail closed at the budget, the worker replaced, the queue behind it served', async () => {
    const { abandoned, replaced } = pool.stats;
    // one Call-ID: same worker, the MESSAGE queued behind the stuck SPIN
    const stuck = decide(pool, plainInput('SPIN', 'stuck-1'));
    const behind = decide(pool, plainInput('MESSAGE', 'stuck-1'));
    const s = await stuck;
    expect(s.failure).toEqual({ kind: 'timeout', message: 'evaluation exceeded the 200 ms budget; abandoned' });
    expect(s.decision).toEqual({ allow: false, reject: { status: 500, reason: 'Policy Error' } });
    expect(s.eval_ns).toBeGreaterThan(200e6);
    const b = await behind;
    expect(b.failure).toBeUndefined();
    expect(b.decision.reject).toEqual({ status: 488, reason: 'v2' });
    expect(pool.stats.abandoned).toBe(abandoned + 1);
    expect(pool.stats.replaced).toBe(replaced + 1);
    expect(log.lines.find((l) => l.msg === 'decision' && l.call_id === 'stuck-1' && l.failure)).toMatchObject({ failure: { kind: 'timeout' }, decision: { allow: false } });
    // one error for the message, saying it was abandoned
    expect(log.lines.filter((l) => l.level === 50 && l.decision_id === s.decision_id).map((l) => l.msg)).toEqual(['policy evaluation over budget; evaluation abandoned, message rejected']);
    expect(log.lines.some((l) => l.level === 50 && String(l.msg).includes('terminated and replaced'))).toBe(true);
    // the replacement serves new messages
    expect((await decide(pool, plainInput('MESSAGE', 'stuck-2'))).decision.reject?.reason).toBe('v2');
  });

  it('replaces a worker that dies; messages keep being decided', async () => {
    const { crashed, started } = pool.stats;
    const lane = (pool as unknown as { lanes: Array<{ worker: { terminate(): Promise<number> } }> }).lanes[0]!;
    await lane.worker.terminate();
    const results = await Promise.all(Array.from({ length: 10 }, (_, k) => decide(pool, plainInput('MESSAGE', `after-crash-${k}`))));
    for (const r of results) expect(r.decision.reject?.reason).toBe('v2');
    expect(pool.stats.crashed).toBe(crashed + 1);
    expect(pool.stats.started).toBe(started + 1);
  });
});
