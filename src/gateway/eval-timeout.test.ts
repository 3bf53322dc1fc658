// policy.eval_timeout_ms on the wire: a gateway whose policy is cheap for most requests and costly
// for INFO (a comprehension over numbers.range(1, 300000): hundreds of ms, over ten times the
// 20 ms budget). The cheap decision is applied; the costly one is replaced by fail_closed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { TempDir } from '../tls/testkit.js';
import { Gateway } from './gateway.js';
import { parseConfig, validateConfig } from './config.js';
import { UdpPeer } from './testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';

const ready = await compilerReady();

const POLICY = `package sip

n := 300000 if input.message.method == "INFO"
else := 10

sevens := [x | some x in numbers.range(1, n); x % 7 == 0]

decision := {"allow": false, "reject": {"status": 488, "reason": sprintf("Counted %d", [count(sevens)])}}
`;

describe.skipIf(!ready)('gateway: policy.eval_timeout_ms', () => {
  let dir: TempDir;
  let gw: Gateway;
  let ua: UdpPeer;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = new TempDir();
    const policyDir = join(dir.path, 'policy');
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'decision.rego'), POLICY);
    const yaml = YAML.stringify({
      listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
      policy: { path: policyDir, eval_timeout_ms: 20, fail_closed: { status: 503, reason: 'Policy Timeout' } },
      log: { level: 'info', decisions: true },
    });
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    gw = await Gateway.start(parseConfig(yaml, 'eval-timeout.yaml', dir.path), { logger });
    ua = new UdpPeer();
    await ua.bind();
  });

  afterAll(async () => {
    ua?.close();
    await gw?.stop();
    dir?.remove();
  });

  const request = (method: string, callId: string) =>
    [
      `${method} sip:bob@biloxi.test SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bK-${callId}`,
      'Max-Forwards: 70',
      'From: <sip:alice@atlanta.test>;tag=a1',
      'To: <sip:bob@biloxi.test>',
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');

  it('applies a decision made within the budget and answers fail_closed for one over it, logged as an error', async () => {
    ua.send(request('MESSAGE', 'evt-fast'), gw.listener('udp').port);
    const fast = await ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'evt-fast', 'answer to MESSAGE');
    expect([fast.status, fast.reason]).toEqual([488, 'Counted 1']);

    ua.send(request('INFO', 'evt-slow'), gw.listener('udp').port);
    const slow = await ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'evt-slow', 'answer to INFO');
    expect([slow.status, slow.reason]).toEqual([503, 'Policy Timeout']);

    const line = logLines.find((l) => l.msg === 'decision' && l.call_id === 'evt-slow') as { failure: { kind: string; message: string }; eval_ns: number };
    expect(line.failure).toEqual({ kind: 'timeout', message: expect.stringMatching(/^evaluation took \d+\.\d ms, over the 20 ms budget$/) });
    expect(line.eval_ns).toBeGreaterThan(20e6);
    const err = logLines.find((l) => l.msg === 'policy evaluation over budget; message rejected');
    expect(err).toMatchObject({ level: 50, budget_ms: 20 });
    expect(logLines.find((l) => l.msg === 'decision' && l.call_id === 'evt-fast')).not.toHaveProperty('failure');
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
