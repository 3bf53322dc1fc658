// The evaluation budget (policy.eval_timeout_ms): a real Rego policy compiled by our compiler whose
// cost grows with the input (a comprehension over numbers.range(1, input.n)), so one policy gives
// a fast decision (n = 10: well under a millisecond) and a slow one (n = 300000: hundreds of ms,
// over ten times the budget used here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_EVAL_TIMEOUT_MS, PolicyEngine } from './engine.js';
import { compilerReady } from './testing/compiler-ready.js';
import { captureLogger } from './testing/capture-logger.js';

const ready = await compilerReady();

const POLICY = `package sip

sevens := [x | some x in numbers.range(1, input.n); x % 7 == 0]

decision := {"allow": true, "log": {"sevens": count(sevens)}}
`;

describe.skipIf(!ready)('policy evaluation budget (post hoc)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-evt-'));
    await writeFile(join(dir, 'slow.rego'), POLICY);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('applies a decision evaluated within the budget and rejects one that took longer, with the configured status', async () => {
    const { logger, lines } = captureLogger();
    const e = new PolicyEngine({
      source: { type: 'dir', path: dir },
      evalTimeoutMs: 20,
      failClosed: { status: 503, reason: 'Policy Too Slow' },
      decisionLog: { logger },
    });
    expect((await e.start()).ok).toBe(true);

    // the first message after a load is not charged with the module's warm-up
    const fast = e.decide({ n: 10 });
    expect(fast.failure).toBeUndefined();
    expect(fast.decision).toEqual({ allow: true, log: { sevens: 1 } });

    const slow = e.decide({ n: 300_000 });
    expect(slow.eval_ns).toBeGreaterThan(20e6);
    expect(slow.decision).toEqual({ allow: false, reject: { status: 503, reason: 'Policy Too Slow' } });
    expect(slow.failure).toEqual({ kind: 'timeout', message: expect.stringMatching(/^evaluation took \d+\.\d ms, over the 20 ms budget$/) });

    // logged as an error with the elapsed time, and in the decision line's failure field
    const err = lines.find((l) => l.msg === 'policy evaluation over budget; message rejected');
    expect(err).toMatchObject({ level: 50, decision_id: slow.decision_id, budget_ms: 20, revision: e.info!.revision });
    expect(err!.eval_ms as number).toBeGreaterThan(20);
    const line = lines.find((l) => l.msg === 'decision' && l.decision_id === slow.decision_id);
    expect(line).toMatchObject({ failure: { kind: 'timeout' }, decision: { allow: false, reject: { status: 503 } } });

    // the engine goes on deciding
    expect(e.decide({ n: 14 }).decision).toEqual({ allow: true, log: { sevens: 2 } });
    e.close();
  });

  it('the same slow input passes under a budget large enough for it, and the default budget is 100 ms', async () => {
    expect(DEFAULT_EVAL_TIMEOUT_MS).toBe(100);
    const e = new PolicyEngine({ source: { type: 'dir', path: dir }, evalTimeoutMs: 60_000 });
    expect((await e.start()).ok).toBe(true);
    const r = e.decide({ n: 300_000 });
    expect(r.failure).toBeUndefined();
    expect(r.decision).toEqual({ allow: true, log: { sevens: 42_857 } });
    e.close();
  });
});
