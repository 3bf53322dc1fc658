// On the wire through a UDP gateway: after a 2xx to an INVITE the transactions are Accepted
// (RFC 6026), and the UAS retransmits its 2xx until the ACK arrives. Those retransmissions must
// reach the caller (a 2xx lost beyond the gateway is only recovered that way: the call is lost
// otherwise), without being decided again; a 2xx of another dialog (a fork downstream) is decided.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUdpGatewayWithUas, type UdpGateway } from './testing/udp-gateway.js';
import { answer, isReq, type UdpPeer } from './testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';
import type { SipMessage } from '../sip/message.js';

const ready = await compilerReady();

// initial requests go to the UAS; responses of the dialog tagged b1 or b2 pass, any other is refused
const policy = (uasPort: number) => `package sip

default decision := {"allow": false, "reject": {"status": 403, "reason": "Refused Here"}}

decision := {"allow": true, "route": {"uri": "sip:127.0.0.1:${uasPort};transport=udp"}} if not input.message.to.tag

decision := {"allow": true} if input.message.to.tag in {"b1", "b2"}
`;

describe.skipIf(!ready)('gateway: 2xx retransmissions through the Accepted INVITE transaction (RFC 6026)', () => {
  let t: UdpGateway & { uas: UdpPeer };

  beforeAll(async () => {
    t = await startUdpGatewayWithUas(policy, { policy: { eval_timeout_ms: 10_000 } });
  });

  afterAll(async () => {
    await t?.stop();
  });

  const oks = (callId: string, tag?: string) => (m: SipMessage) => m.kind === 'response' && m.callId === callId && m.status === 200 && (tag === undefined || m.to.params['tag'] === tag);

  it('the UAS retransmitting its 200 reaches the caller every time, decided once; another dialog’s 200 is decided (and refused here)', async () => {
    t.send(t.request('INVITE', 'acc-1'));
    const inv = await t.uas.inbox.wait((m) => isReq('INVITE')(m) && m.callId === 'acc-1', 'INVITE at the UAS');
    const ok = answer(inv, 200, 'OK', { toTag: 'b1', contact: `<sip:bob@127.0.0.1:${t.uas.port}>` }).toBuffer();
    const gw = t.gw.listener('udp').port;

    t.uas.send(ok, gw);
    await t.ua.inbox.wait(oks('acc-1', 'b1'), 'the 200');
    // the caller's 200 was lost on its way, say: the UAS retransmits (T1, 2·T1, ...)
    t.uas.send(ok, gw);
    await t.ua.inbox.wait((m) => t.ua.inbox.messages.filter(oks('acc-1', 'b1')).length >= 2 && oks('acc-1', 'b1')(m), 'the first retransmission of the 200');
    t.uas.send(ok, gw);
    await t.ua.inbox.wait((m) => t.ua.inbox.messages.filter(oks('acc-1', 'b1')).length >= 3 && oks('acc-1', 'b1')(m), 'the second retransmission of the 200');

    // a 2xx of another dialog (forked downstream), refused by the policy: never reaches the caller
    t.uas.send(answer(inv, 200, 'OK', { toTag: 'evil' }).toBuffer(), gw);
    // and one the policy allows: reaches the caller (a proxy forwards every 2xx, RFC 3261 §16.7 step 5)
    t.uas.send(answer(inv, 200, 'OK', { toTag: 'b2' }).toBuffer(), gw);
    await t.ua.inbox.wait(oks('acc-1', 'b2'), 'the 200 of the second dialog');
    expect(t.ua.inbox.messages.filter(oks('acc-1', 'evil'))).toHaveLength(0);

    const decided = t.decisionsFor('acc-1').map((d) => `${d.method}${d.status ? ` ${d.status}` : ''}:${(d.decision as { allow: boolean }).allow}`);
    // the INVITE, the first 200 (b1), the refused one (evil), the second dialog's (b2): the retransmissions were not decided again
    expect(decided).toEqual(['INVITE:true', 'INVITE 200:true', 'INVITE 200:false', 'INVITE 200:true']);
  });
});
