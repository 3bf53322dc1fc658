// On the wire through a UDP gateway: RFC 3581 and RFC 3261 §18.2.1 on received requests (the top
// Via gets received= and rport=, in the gateway's own responses, in the responses it relays and in
// the request it forwards), and the policy input's absent values (`not input.message.to.tag`
// selects initial requests; the stamped Via is what the policy sees).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUdpGatewayWithUas, type UdpGateway } from './testing/udp-gateway.js';
import { answer, isReq, type UdpPeer } from './testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';
import type { SipMessage } from '../sip/message.js';

const ready = await compilerReady();

// MESSAGE: refused by the gateway itself; anything else goes to the UAS. The log says whether the
// policy saw an initial request and which received= it saw on the top Via.
const policy = (uasPort: number) => `package sip

initial if not input.message.to.tag

facts := {"initial": initial_flag, "received": object.get(input.message.via[0], "received", "absent")}

default initial_flag := false

initial_flag if initial

default decision := {"allow": false, "reject": {"status": 403, "reason": "Refused Here"}}

decision := {"allow": true, "route": {"uri": "sip:127.0.0.1:${uasPort};transport=udp"}, "log": facts} if input.message.method != "MESSAGE"
`;

describe.skipIf(!ready)('gateway: Via received/rport (RFC 3581) and absent values in the policy input', () => {
  let t: UdpGateway & { uas: UdpPeer };

  beforeAll(async () => {
    t = await startUdpGatewayWithUas(policy, { policy: { eval_timeout_ms: 10_000 } });
  });

  afterAll(async () => {
    await t?.stop();
  });

  const request = (method: string, callId: string, via: string, toTag?: string) =>
    [
      `${method} sip:bob@biloxi.test SIP/2.0`,
      `Via: ${via}`,
      'Max-Forwards: 70',
      'From: <sip:alice@atlanta.test>;tag=a1',
      `To: <sip:bob@biloxi.test>${toTag ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      'Contact: <sip:alice@127.0.0.1>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  const responseTo = (callId: string, status: number) => (m: SipMessage) => m.kind === 'response' && m.callId === callId && m.status === status;

  it('a request whose Via names another port and asks for rport: received= and rport=<source port> in every response, and in the forwarded request', async () => {
    const via = 'SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-r1;rport'; // port 9: not where the UA sends from
    t.send(request('INVITE', 'r1', via));
    const stamped = `SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-r1;rport=${t.ua.port};received=127.0.0.1`;

    // the gateway's own 100 Trying: at the source port, top Via stamped (RFC 3581 §4: both, even
    // though the address is the sent-by host)
    const trying = await t.ua.inbox.wait(responseTo('r1', 100), '100 Trying at the UA');
    expect(trying.fields('via')[0]!.value).toBe(stamped);

    // forwarded: the UAS sees our Via on top and the stamped one below
    const inv = await t.uas.inbox.wait((m) => isReq('INVITE')(m) && m.callId === 'r1', 'INVITE at the UAS');
    expect(inv.via).toHaveLength(2);
    expect(inv.getAll('via')[1]).toBe(stamped);
    expect(inv.via[1]).toMatchObject({ received: '127.0.0.1', rport: String(t.ua.port), port: 9 });

    // relayed: the UAS's answer comes back to the UA with the stamped Via on top
    t.uas.send(answer(inv, 486, 'Busy Here', { toTag: 'b1' }).toBuffer(), t.gw.listener('udp').port);
    const busy = await t.ua.inbox.wait(responseTo('r1', 486), '486 at the UA');
    expect(busy.getAll('via')).toEqual([stamped]);
    t.send(
      [`ACK sip:bob@biloxi.test SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', 'From: <sip:alice@atlanta.test>;tag=a1', 'To: <sip:bob@biloxi.test>;tag=b1', 'Call-ID: r1', 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'),
    );

    // the policy saw the stamped Via, and an initial request
    const [d] = t.decisionsFor('r1').filter((l) => l.method === 'INVITE' && l.status === undefined);
    expect(d).toMatchObject({ decision: { allow: true, log: { initial: true, received: '127.0.0.1' } } });
  });

  it('a Via whose host is not the source address gets received= (no rport asked: none added); also on a response the gateway makes', async () => {
    t.send(request('MESSAGE', 'r2', 'SIP/2.0/UDP ua.atlanta.test:5060;branch=z9hG4bK-r2'));
    const refused = await t.ua.inbox.wait(responseTo('r2', 403), '403 at the UA');
    expect(refused.getAll('via')).toEqual(['SIP/2.0/UDP ua.atlanta.test:5060;branch=z9hG4bK-r2;received=127.0.0.1']);
  });

  it('a Via naming the source address, without rport, is left as it came', async () => {
    const via = `SIP/2.0/UDP 127.0.0.1:${t.ua.port};branch=z9hG4bK-r3`;
    t.send(request('MESSAGE', 'r3', via));
    const refused = await t.ua.inbox.wait(responseTo('r3', 403), '403 at the UA');
    expect(refused.getAll('via')).toEqual([via]);
  });

  it('`not input.message.to.tag` holds for an initial request only: the To tag is absent, not null', async () => {
    // r1's INVITE was initial (above); an in-dialog BYE carries the To tag
    t.send(request('BYE', 'r4', `SIP/2.0/UDP 127.0.0.1:${t.ua.port};branch=z9hG4bK-r4`, 'b4'));
    const bye = await t.uas.inbox.wait((m) => isReq('BYE')(m) && m.callId === 'r4', 'BYE at the UAS');
    t.uas.send(answer(bye, 200, 'OK').toBuffer(), t.gw.listener('udp').port);
    await t.ua.inbox.wait(responseTo('r4', 200), '200 for the BYE');
    const [d] = t.decisionsFor('r4').filter((l) => l.method === 'BYE' && l.status === undefined);
    expect(d).toMatchObject({ decision: { allow: true, log: { initial: false, received: 'absent' } } });
    const [inv] = t.decisionsFor('r1').filter((l) => l.method === 'INVITE' && l.status === undefined);
    expect(inv).toMatchObject({ decision: { log: { initial: true } } });
  });
});
