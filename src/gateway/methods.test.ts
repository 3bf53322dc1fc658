// proxy.methods on the wire: the methods a border lets through to the policy. A request with any
// other method is answered 405 with an Allow header and never evaluated; a configured method
// (PUBLISH here) is decided by the policy like any other.
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

decision := {"allow": false, "reject": {"status": 488, "reason": concat(" ", ["Policy saw", input.message.method])}}
`;

describe.skipIf(!ready)('gateway: proxy.methods', () => {
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
      policy: { path: policyDir },
      proxy: { methods: ['INVITE', 'BYE', 'OPTIONS', 'PUBLISH'] },
      log: { level: 'info', decisions: true },
    });
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    gw = await Gateway.start(parseConfig(yaml, 'methods.yaml', dir.path), { logger });
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
  const decisionsFor = (callId: string) => logLines.filter((l) => l.msg === 'decision' && l.call_id === callId);

  it('answers a method outside the list with 405 and Allow, logged, without a decision', async () => {
    ua.send(request('MESSAGE', 'm-405'), gw.listener('udp').port);
    const r = await ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'm-405', 'answer to MESSAGE');
    expect([r.status, r.reason]).toEqual([405, 'Method Not Allowed']);
    expect(r.get('allow')).toBe('INVITE, BYE, OPTIONS, PUBLISH, ACK, CANCEL');
    expect(decisionsFor('m-405')).toHaveLength(0);
    expect(logLines.some((l) => l.msg === 'sip: method not allowed; answered 405' && l.method === 'MESSAGE')).toBe(true);
    expect(gw.proxy.stats.methodNotAllowed).toBe(1);

    // a retransmission is absorbed by the transaction and answered with the same 405
    ua.send(request('MESSAGE', 'm-405'), gw.listener('udp').port);
    await ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'm-405' && ua.inbox.messages.filter((x) => x.callId === 'm-405').length === 2, 'second 405');
    expect(gw.proxy.stats.methodNotAllowed).toBe(1);
  });

  it('lets a configured method through to the policy', async () => {
    ua.send(request('PUBLISH', 'm-pub'), gw.listener('udp').port);
    const r = await ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'm-pub', 'answer to PUBLISH');
    expect([r.status, r.reason]).toEqual([488, 'Policy saw PUBLISH']);
    expect(decisionsFor('m-pub')).toHaveLength(1);
  });

  it('an unknown extension method is refused the same way', async () => {
    ua.send(request('FOOBAR', 'm-foo'), gw.listener('udp').port);
    const r = await ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'm-foo', 'answer to FOOBAR');
    expect(r.status).toBe(405);
    expect(decisionsFor('m-foo')).toHaveLength(0);
  });

  it('the schema names a method that is not a token', () => {
    const errors = validateConfig({ listen: [{ transport: 'udp', port: 0 }], policy: { path: 'p' }, proxy: { methods: ['INVITE', 'BAD METHOD'] } });
    expect(errors.join('\n')).toMatch(/\/proxy\/methods\/1/);
  });
});
