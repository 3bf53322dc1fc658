// proxy.methods on the wire: the methods a border lets through to the policy. A request with any
// other method is answered 405 with an Allow header and never evaluated; a configured method
// (PUBLISH here) is decided by the policy like any other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from './config.js';
import { startUdpGateway, type UdpGateway } from './testing/udp-gateway.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';

const ready = await compilerReady();

const POLICY = `package sip

decision := {"allow": false, "reject": {"status": 488, "reason": concat(" ", ["Policy saw", input.message.method])}}
`;

describe.skipIf(!ready)('gateway: proxy.methods', () => {
  let t: UdpGateway;

  beforeAll(async () => {
    t = await startUdpGateway(POLICY, { proxy: { methods: ['INVITE', 'BYE', 'OPTIONS', 'PUBLISH'] } });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('answers a method outside the list with 405 and Allow, logged, without a decision', async () => {
    t.send(t.request('MESSAGE', 'm-405'));
    const r = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'm-405', 'answer to MESSAGE');
    expect([r.status, r.reason]).toEqual([405, 'Method Not Allowed']);
    expect(r.get('allow')).toBe('INVITE, BYE, OPTIONS, PUBLISH, ACK, CANCEL');
    expect(t.decisionsFor('m-405')).toHaveLength(0);
    expect(t.logLines.some((l) => l.msg === 'sip: method not allowed; answered 405' && l.method === 'MESSAGE')).toBe(true);
    expect(t.gw.proxy.stats.methodNotAllowed).toBe(1);

    // a retransmission is absorbed by the transaction and answered with the same 405
    t.send(t.request('MESSAGE', 'm-405'));
    await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'm-405' && t.ua.inbox.messages.filter((x) => x.callId === 'm-405').length === 2, 'second 405');
    expect(t.gw.proxy.stats.methodNotAllowed).toBe(1);
  });

  it('lets a configured method through to the policy', async () => {
    t.send(t.request('PUBLISH', 'm-pub'));
    const r = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'm-pub', 'answer to PUBLISH');
    expect([r.status, r.reason]).toEqual([488, 'Policy saw PUBLISH']);
    expect(t.decisionsFor('m-pub')).toHaveLength(1);
  });

  it('an unknown extension method is refused the same way', async () => {
    t.send(t.request('FOOBAR', 'm-foo'));
    const r = await t.ua.inbox.wait((m) => m.kind === 'response' && m.callId === 'm-foo', 'answer to FOOBAR');
    expect(r.status).toBe(405);
    expect(t.decisionsFor('m-foo')).toHaveLength(0);
  });

  it('the schema names a method that is not a token', () => {
    const errors = validateConfig({ listen: [{ transport: 'udp', port: 0 }], policy: { path: 'p' }, proxy: { methods: ['INVITE', 'BAD METHOD'] } });
    expect(errors.join('\n')).toMatch(/\/proxy\/methods\/1/);
  });
});
