// The proxy with decisions that arrive later (an evaluation pool, not the in-thread engine): what
// happens while a decision is pending. Real UDP sockets; the Decider holds every input until the
// test releases it, so the interleavings are exact, not timed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Decision, EncodedInput } from '../policy/index.js';
import { TransactionLayer } from '../sip/transaction.js';
import { DnsResolver3263 } from './nexthop.js';
import { Proxy, type Decider, type Decided } from './proxy.js';
import { Transports } from './transports.js';
import { UdpPeer, answer, isReq, isResp } from './testing/peer.js';

interface Pending {
  what: string;
  release(d: Decision): void;
}

/** Decisions on hold: `pending` lists them in arrival order, as "METHOD" or "STATUS METHOD". */
class HeldDecider implements Decider {
  readonly pending: Pending[] = [];
  private waiters: Array<() => void> = [];
  decide(input: EncodedInput, done: (r: Decided) => void): void {
    const log = input.log;
    const what = log.status === undefined ? String(log.method) : `${log.status} ${log.method}`;
    this.pending.push({ what, release: (decision) => done({ decision, eval_ns: 1 }) });
    for (const w of this.waiters.splice(0)) w();
  }
  /** Waits until `n` decisions are pending. */
  async held(n: number): Promise<string[]> {
    while (this.pending.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return this.pending.map((p) => p.what);
  }
  take(): Pending {
    return this.pending.shift()!;
  }
}

const logger = pino({ level: 'silent' });
let transports: Transports;
let decider: HeldDecider;
let gwPort: number;
let alice: UdpPeer;
let bob: UdpPeer;

beforeAll(async () => {
  decider = new HeldDecider();
  transports = new Transports({ logger });
  const proxy = new Proxy({ egress: transports, policy: decider, resolver: new DnsResolver3263(), logger, layer: new TransactionLayer() });
  transports.deliverTo(proxy);
  gwPort = (await transports.listen({ transport: 'udp', address: '127.0.0.1', port: 0 })).port;
  alice = new UdpPeer();
  bob = new UdpPeer();
  await alice.bind();
  await bob.bind();
});

afterAll(async () => {
  alice.close();
  bob.close();
  await transports.close();
});

function invite(callId: string, method = 'INVITE'): string {
  return [
    `${method} sip:bob@127.0.0.1:${bob.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${alice.port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    'From: <sip:alice@atlanta.test>;tag=a1',
    `To: <sip:bob@127.0.0.1:${bob.port}>`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const allow: Decision = { allow: true };
const byCall = (callId: string) => (m: { callId: string }) => m.callId === callId;

describe('decisions that arrive later', () => {
  it('a CANCEL while the INVITE waits for its decision: 200 for the CANCEL, 487 for the INVITE, nothing forwarded', async () => {
    alice.send(invite('held-1'), gwPort);
    expect(await decider.held(1)).toEqual(['INVITE']);
    alice.send(invite('held-1', 'CANCEL'), gwPort);
    expect(await decider.held(2)).toEqual(['INVITE', 'CANCEL']);
    // both in the same tick: the INVITE's next hop (UDP) is still being resolved when the CANCEL
    // is allowed, so the INVITE never leaves
    decider.take().release(allow);
    decider.take().release(allow);
    const cancelled = await alice.inbox.wait((m) => byCall('held-1')(m) && isResp(487, 'INVITE')(m), '487');
    expect(cancelled.status).toBe(487);
    expect((await alice.inbox.wait((m) => byCall('held-1')(m) && isResp(200, 'CANCEL')(m), '200 CANCEL')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100)); // a wrongly forwarded INVITE would arrive by now
    expect(bob.inbox.messages.some((m) => m.callId === 'held-1')).toBe(false);
  });

  it('an INVITE allowed later is forwarded then; its response waits for its own decision', async () => {
    alice.send(invite('held-2'), gwPort);
    expect(await decider.held(1)).toEqual(['INVITE']);
    // alice's retransmission is absorbed by the transaction, never decided twice
    alice.send(invite('held-2'), gwPort);
    expect((await alice.inbox.wait((m) => byCall('held-2')(m) && isResp(100)(m), '100 Trying')).status).toBe(100);
    expect(decider.pending).toHaveLength(1);
    decider.take().release(allow);
    const inv = await bob.inbox.wait((m) => byCall('held-2')(m) && isReq('INVITE')(m), 'forwarded INVITE');
    bob.send(answer(inv, 486, 'Busy Here', { toTag: 'b1' }).toBuffer(), gwPort);
    expect(await decider.held(1)).toEqual(['486 INVITE']);
    expect(alice.inbox.messages.some((m) => byCall('held-2')(m) && isResp(486)(m))).toBe(false);
    decider.take().release({ allow: false, reject: { status: 503, reason: 'Callee Refused By Policy' } });
    const final = await alice.inbox.wait((m) => byCall('held-2')(m) && m.kind === 'response' && m.status >= 400, 'final response');
    expect([final.status, final.reason]).toEqual([503, 'Callee Refused By Policy']);
  });

  it('a CANCEL before the INVITE was allowed, with the INVITE then denied: the INVITE gets 487 only', async () => {
    alice.send(invite('held-3'), gwPort);
    await decider.held(1);
    alice.send(invite('held-3', 'CANCEL'), gwPort);
    await decider.held(2);
    const inviteDecision = decider.take();
    decider.take().release(allow); // the CANCEL first: the INVITE is answered 487 at once
    expect((await alice.inbox.wait((m) => byCall('held-3')(m) && isResp(487, 'INVITE')(m), '487')).status).toBe(487);
    inviteDecision.release({ allow: false, reject: { status: 403, reason: 'Too Late' } });
    await alice.inbox.wait((m) => byCall('held-3')(m) && isResp(200, 'CANCEL')(m), '200 CANCEL');
    await new Promise((r) => setTimeout(r, 100)); // a wrong second final response would arrive by now
    expect(alice.inbox.messages.filter((m) => byCall('held-3')(m) && m.kind === 'response' && m.cseq.method === 'INVITE' && m.status >= 200).map((m) => m.status)).toEqual([487]);
    expect(bob.inbox.messages.some((m) => m.callId === 'held-3')).toBe(false);
  });
});
