// policy.eval_timeout_ms on the wire: a gateway whose policy is cheap for most requests and costly
// for INFO (a comprehension over numbers.range(1, 300000): hundreds of ms, over ten times the
// 20 ms budget). The cheap decision is applied; the costly one is replaced by fail_closed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from './config.js';
import { startUdpGateway, type UdpGateway } from './testing/udp-gateway.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';

const ready = await compilerReady();

const POLICY = `package sip

n := 300000 if input.message.method == "INFO"
else := 10

sevens := [x | some x in numbers.range(1, n); x % 7 == 0]

decision := {"allow": false, "reject": {"status": 488, "reason": sprintf("Counted %d", [count(sevens)])}}
`;

describe.skipIf(!ready)('gateway: policy.eval_timeout_ms', () => {
  let t: UdpGateway;

  beforeAll(async () => {
    t = await startUdpGateway(POLICY, { policy: { eval_timeout_ms: 20, fail_closed: { status: 503, reason: 'Policy Timeout' } } });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('applies a decision made within the budget and answers fail_closed for one over it, logged as an error', async () => {
    t.send(t.request('MESSAGE', 'evt-fast'));
    const fast = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'evt-fast', 'answer to MESSAGE');
    expect([fast.status, fast.reason]).toEqual([488, 'Counted 1']);

    t.send(t.request('INFO', 'evt-slow'));
    const slow = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'evt-slow', 'answer to INFO');
    expect([slow.status, slow.reason]).toEqual([503, 'Policy Timeout']);

    const line = t.logLines.find((l) => l.msg === 'decision' && l.call_id === 'evt-slow') as { failure: { kind: string; message: string }; eval_ns: number };
    // an evaluation worker's watchdog abandons it, or (if it finished first) the budget check after it rejects it
    expect(line.failure).toEqual({ kind: 'timeout', message: expect.stringMatching(/^evaluation (took \d+\.\d ms, over|exceeded) the 20 ms budget/) });
    expect(line.eval_ns).toBeGreaterThan(20e6);
    const err = t.logLines.find((l) => String(l.msg).startsWith('policy evaluation over budget;'));
    expect(err).toMatchObject({ level: 50, budget_ms: 20 });
    expect(t.logLines.find((l) => l.msg === 'decision' && l.call_id === 'evt-fast')).not.toHaveProperty('failure');
  });
});

describe('config: policy.eval_timeout_ms', () => {
  const base = { listen: [{ transport: 'udp', port: 5060 }] };
  it('is an integer number of milliseconds from 1 to 60000', () => {
    expect(validateConfig({ ...base, policy: { path: 'p', eval_timeout_ms: 250 } })).toEqual([]);
    expect(validateConfig({ ...base, policy: { path: 'p', eval_timeout_ms: 0 } })).toEqual(['/policy/eval_timeout_ms: must be >= 1']);
    expect(validateConfig({ ...base, policy: { path: 'p', eval_timeout_ms: 1.5 } })).toEqual(['/policy/eval_timeout_ms: must be integer']);
  });
});
