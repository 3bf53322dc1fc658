// The evaluation workers on the wire (policy.workers): a request whose evaluation never ends (a
// policy that spins on INFO) is answered with fail_closed once the budget has passed, its worker
// is replaced, and a request of the same call queued behind it is decided by the new worker. With
// policy.workers: 0 decisions are made in the event-loop thread, as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from './config.js';
import { startUdpGateway, type UdpGateway } from './testing/udp-gateway.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';

const ready = await compilerReady();

const POLICY = `package sip

r := numbers.range(1, 20000)

# INFO never finishes: 8e12 steps, none of which allocates
spin if {
	input.message.method == "INFO"
	some a in r
	some b in r
	some c in r
	a > b
	b > c
	c > a
}

decision := {"allow": false, "reject": {"status": 488, "reason": sprintf("Decided %s", [input.message.method])}} if not spin
`;

describe.skipIf(!ready)('gateway: policy evaluation workers', () => {
  let t: UdpGateway;

  beforeAll(async () => {
    t = await startUdpGateway(POLICY, { policy: { eval_timeout_ms: 150, workers: 1, fail_closed: { status: 503, reason: 'Policy Timeout' } } });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('answers a request whose evaluation never ends with fail_closed, replaces the worker, and decides what waited behind it', async () => {
    expect(t.gw.pool?.size).toBe(1);
    t.send(t.request('INFO', 'spin-1'));
    // the same call: queued behind the stuck INFO
    const message = t.request('MESSAGE', 'spin-1').replace('branch=z9hG4bK-spin-1', 'branch=z9hG4bK-spin-1m').replace('CSeq: 1 MESSAGE', 'CSeq: 2 MESSAGE');
    t.send(message);
    const info = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'spin-1' && m.cseq.method === 'INFO', 'answer to INFO');
    expect([info.status, info.reason]).toEqual([503, 'Policy Timeout']);
    const msg = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'spin-1' && m.cseq.method === 'MESSAGE', 'answer to MESSAGE');
    expect([msg.status, msg.reason]).toEqual([488, 'Decided MESSAGE']);
    expect(t.gw.pool!.stats).toMatchObject({ abandoned: 1, replaced: 1 });
    const line = t.decisionsFor('spin-1').find((l) => l.method === 'INFO')!;
    expect(line.failure).toEqual({ kind: 'timeout', message: 'evaluation exceeded the 150 ms budget; abandoned' });
    // and the gateway goes on
    t.send(t.request('OPTIONS', 'spin-2'));
    const opt = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'spin-2', 'answer to OPTIONS');
    expect(opt.reason).toBe('Decided OPTIONS');
  });
});

describe.skipIf(!ready)('gateway: policy.workers 0', () => {
  let t: UdpGateway;
  beforeAll(async () => {
    t = await startUdpGateway(POLICY, { policy: { workers: 0 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('decides in the event-loop thread', async () => {
    expect(t.gw.pool).toBeUndefined();
    t.send(t.request('MESSAGE', 'w0-1'));
    const r = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'w0-1', 'answer');
    expect(r.reason).toBe('Decided MESSAGE');
  });
});

describe('config: policy.workers', () => {
  const base = { listen: [{ transport: 'udp', port: 5060 }] };
  it('is a number of threads from 0 to 64, or auto', () => {
    for (const workers of [0, 1, 4, 'auto']) expect(validateConfig({ ...base, policy: { path: 'p', workers } })).toEqual([]);
    expect(validateConfig({ ...base, policy: { path: 'p', workers: -1 } }).join()).toMatch(/\/policy\/workers/);
    expect(validateConfig({ ...base, policy: { path: 'p', workers: 'many' } }).join()).toMatch(/\/policy\/workers/);
  });
});
