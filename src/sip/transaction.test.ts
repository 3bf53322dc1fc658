import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import dgram from 'node:dgram';
import { TransactionLayer, type TransportHandle } from './transaction.js';
import { parseMessage } from './parser.js';
import { buildResponse, buildCancel, generateBranch } from './build.js';
import type { SipMessage } from './message.js';
import { loadTorture } from './fixtures/torture.js';

const T1 = 500;

function request(method: string, branch = 'z9hG4bKabc123', extra = ''): SipMessage {
  return parseMessage(
    Buffer.from(
      `${method} sip:bob@biloxi.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=${branch}\r\nMax-Forwards: 70\r\n` +
        `Route: <sip:p1.example;lr>\r\nTo: <sip:bob@biloxi.example>\r\nFrom: <sip:alice@atlanta.example>;tag=a1\r\n` +
        `Call-ID: call-1\r\nCSeq: 7 ${method}\r\n${extra}Content-Length: 0\r\n\r\n`,
    ),
  );
}

const respond = (req: SipMessage, status: number): SipMessage => parseMessage(buildResponse(req, status, undefined, { toTag: 'b2' }).toBuffer());

function wire(reliable = false): TransportHandle & { sent: SipMessage[] } {
  const sent: SipMessage[] = [];
  return { sent, reliable, send: (data: Buffer) => void sent.push(parseMessage(data)) };
}

describe('transactions (RFC 3261 §17)', () => {
  let layer: TransactionLayer;
  beforeEach(() => {
    vi.useFakeTimers();
    layer = new TransactionLayer();
  });
  afterEach(() => {
    layer.shutdown();
    vi.useRealTimers();
  });

  describe('INVITE client', () => {
    it('retransmits with Timer A doubling over UDP and times out with Timer B', () => {
      const w = wire();
      const onTimeout = vi.fn();
      const tx = layer.sendRequest(request('INVITE'), w, { onResponse: vi.fn(), onTimeout });
      expect(w.sent).toHaveLength(1);
      vi.advanceTimersByTime(T1);
      expect(w.sent).toHaveLength(2);
      vi.advanceTimersByTime(2 * T1);
      expect(w.sent).toHaveLength(3);
      vi.advanceTimersByTime(4 * T1);
      expect(w.sent).toHaveLength(4);
      vi.advanceTimersByTime(64 * T1 - 7 * T1 - 1);
      expect(onTimeout).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(onTimeout).toHaveBeenCalledOnce();
      expect(tx.state).toBe('terminated');
      expect(w.sent.length).toBe(7); // sent at 0, 1, 3, 7, 15, 31 T1 ... (63 T1 is cut by B at 64 T1)
      expect(layer.size.client).toBe(0);
    });

    it('does not retransmit on a reliable transport', () => {
      const w = wire(true);
      layer.sendRequest(request('INVITE'), w, { onResponse: vi.fn() });
      vi.advanceTimersByTime(10 * T1);
      expect(w.sent).toHaveLength(1);
    });

    it('ACKs a non-2xx final hop by hop, absorbs its retransmissions, ends after Timer D', () => {
      const w = wire();
      const onResponse = vi.fn();
      const inv = request('INVITE');
      const tx = layer.sendRequest(inv, w, { onResponse });
      expect(layer.receiveResponse(respond(inv, 180)).type).toBe('response');
      expect(tx.state).toBe('proceeding');
      vi.advanceTimersByTime(8 * T1);
      expect(w.sent).toHaveLength(1); // provisional stops Timer A
      const busy = respond(inv, 486);
      layer.receiveResponse(busy);
      expect(tx.state).toBe('completed');
      const ack = w.sent[1]!;
      expect(ack.method).toBe('ACK');
      expect(ack.requestUri).toBe(inv.requestUri);
      expect(ack.via[0]!.branch).toBe('z9hG4bKabc123');
      expect(ack.cseq).toEqual({ seq: 7, method: 'ACK' });
      expect(ack.to.params['tag']).toBe('b2');
      expect(ack.route).toHaveLength(1);
      layer.receiveResponse(busy); // retransmitted 486
      expect(w.sent).toHaveLength(3);
      expect(w.sent[2]!.method).toBe('ACK');
      expect(onResponse.mock.calls.map((c) => (c[0] as SipMessage).status)).toEqual([180, 486]);
      vi.advanceTimersByTime(32000);
      expect(tx.state).toBe('terminated');
    });

    it('passes 2xx and its retransmissions to the TU (RFC 6026 Accepted), ends after Timer M', () => {
      const w = wire();
      const onResponse = vi.fn();
      const inv = request('INVITE');
      const tx = layer.sendRequest(inv, w, { onResponse });
      const ok = respond(inv, 200);
      layer.receiveResponse(ok);
      layer.receiveResponse(ok);
      expect(tx.state).toBe('accepted');
      expect(onResponse).toHaveBeenCalledTimes(2);
      expect(w.sent).toHaveLength(1); // no ACK for 2xx from the transaction
      // the messages are released in Accepted (only the key matches retransmissions)
      expect(() => tx.request).toThrow(/released/);
      expect(tx.finalResponse).toBeNull();
      vi.advanceTimersByTime(64 * T1);
      expect(tx.state).toBe('terminated');
      expect(layer.receiveResponse(ok).type).toBe('stray');
    });

    it('relays 2xx retransmissions through an Accepted server transaction that released its messages', () => {
      const w = wire(true);
      const inv = request('INVITE');
      const r = layer.receiveRequest(inv, w);
      if (r.type !== 'request') throw new Error('expected a new transaction');
      const ok = buildResponse(inv, 200, undefined, { toTag: 'b2' });
      expect(r.tx.respond(ok)).toBe(true);
      expect(r.tx.state).toBe('accepted');
      expect(() => r.tx.request).toThrow(/released/);
      expect(r.tx.lastResponse).toBeNull();
      expect(layer.receiveRequest(inv, w).type).toBe('retransmission'); // absorbed, nothing sent
      const before = w.sent.length;
      expect(r.tx.respond(ok)).toBe(true); // a 2xx retransmission from downstream
      expect(w.sent.length).toBe(before + 1);
      expect(w.sent.at(-1)!.status).toBe(200);
      expect(r.tx.respond(buildResponse(inv, 486, undefined, { toTag: 'b2' }))).toBe(false);
    });

    it('keeps CANCEL and its responses apart from the INVITE', () => {
      const w = wire(true);
      const inv = request('INVITE');
      const invTx = layer.sendRequest(inv, w, { onResponse: vi.fn() });
      const cancel = parseMessage(buildCancel(inv).toBuffer());
      const onCancel = vi.fn();
      const cTx = layer.sendRequest(cancel, w, { onResponse: onCancel });
      layer.receiveResponse(respond(cancel, 200));
      vi.advanceTimersByTime(0);
      expect(cTx.state).toBe('terminated'); // Timer K = 0 on reliable
      expect(invTx.state).toBe('calling');
      expect(onCancel).toHaveBeenCalledOnce();
    });

    it('uses configurable T1', () => {
      const l = new TransactionLayer({ timers: { T1: 100 } });
      const onTimeout = vi.fn();
      l.sendRequest(request('INVITE'), wire(true), { onResponse: vi.fn(), onTimeout });
      vi.advanceTimersByTime(6399);
      expect(onTimeout).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(onTimeout).toHaveBeenCalled();
    });
  });

  describe('non-INVITE client', () => {
    it('retransmits with Timer E capped at T2, then at T2 in Proceeding; Timer F times out', () => {
      const w = wire();
      const onTimeout = vi.fn();
      const opt = request('OPTIONS');
      layer.sendRequest(opt, w, { onResponse: vi.fn(), onTimeout });
      const at: number[] = [];
      const start = Date.now();
      const sendSpy = w.send;
      w.send = (d, m) => {
        at.push(Date.now() - start);
        sendSpy(d, m);
      };
      vi.advanceTimersByTime(16 * T1);
      expect(at).toEqual([500, 1500, 3500, 7500]); // intervals 500, 1000, 2000, 4000 (=T2)
      layer.receiveResponse(respond(opt, 100));
      at.length = 0;
      vi.advanceTimersByTime(12000);
      expect(at.length).toBeGreaterThanOrEqual(2);
      vi.advanceTimersByTime(64 * T1);
      expect(onTimeout).toHaveBeenCalledOnce();
    });

    it('completes on a final response and absorbs retransmissions until Timer K', () => {
      const w = wire();
      const onResponse = vi.fn();
      const opt = request('OPTIONS');
      const tx = layer.sendRequest(opt, w, { onResponse });
      const ok = respond(opt, 200);
      layer.receiveResponse(ok);
      layer.receiveResponse(ok);
      expect(onResponse).toHaveBeenCalledOnce();
      expect(tx.state).toBe('completed');
      vi.advanceTimersByTime(5000);
      expect(tx.state).toBe('terminated');
    });

    it('reports transport errors', () => {
      const onTransportError = vi.fn();
      const tx = layer.sendRequest(request('OPTIONS'), { reliable: true, send: () => { throw new Error('EPIPE'); } }, { onResponse: vi.fn(), onTransportError });
      expect(onTransportError).toHaveBeenCalledOnce();
      expect(tx.state).toBe('terminated');
    });
  });

  describe('INVITE server', () => {
    it('sends 100 Trying at once, resends the last provisional on retransmission', () => {
      const w = wire();
      const inv = request('INVITE');
      const r = layer.receiveRequest(inv, w);
      expect(r.type).toBe('request');
      expect(w.sent.map((m) => m.status)).toEqual([100]);
      if (r.type !== 'request') return;
      r.tx.respond(respond(inv, 180));
      expect(layer.receiveRequest(request('INVITE'), w).type).toBe('retransmission');
      expect(w.sent.map((m) => m.status)).toEqual([100, 180, 180]);
    });

    it('retransmits a non-2xx final with Timer G until the ACK, absorbs the ACK, then Timer I', () => {
      const w = wire();
      const inv = request('INVITE');
      const r = layer.receiveRequest(inv, w);
      if (r.type !== 'request') throw new Error('expected request');
      r.tx.respond(respond(inv, 486));
      vi.advanceTimersByTime(T1 + 2 * T1 + 4 * T1 + 8 * T1 + 8 * T1); // 500, 1000, 2000, 4000, 4000 (T2 cap)
      expect(w.sent.filter((m) => m.status === 486)).toHaveLength(6);
      const ack = parseMessage(Buffer.from(request('ACK').toString().replace('CSeq: 7 ACK', 'CSeq: 7 ACK')));
      expect(layer.receiveRequest(ack, w).type).toBe('ack-absorbed');
      expect(r.tx.state).toBe('confirmed');
      vi.advanceTimersByTime(20 * T1);
      expect(w.sent.filter((m) => m.status === 486)).toHaveLength(6);
      expect(r.tx.state).toBe('terminated');
    });

    it('times out with Timer H when no ACK comes', () => {
      const w = wire(true);
      const inv = request('INVITE');
      const r = layer.receiveRequest(inv, w);
      if (r.type !== 'request') throw new Error('expected request');
      const onTimeout = vi.fn();
      r.tx.on({ onTimeout });
      r.tx.respond(respond(inv, 404));
      vi.advanceTimersByTime(64 * T1);
      expect(onTimeout).toHaveBeenCalledOnce();
      expect(w.sent.filter((m) => m.status === 404)).toHaveLength(1); // reliable: no Timer G
    });

    it('after a 2xx absorbs INVITE retransmissions and hands the ACK to the TU', () => {
      const w = wire();
      const inv = request('INVITE');
      const r = layer.receiveRequest(inv, w);
      if (r.type !== 'request') throw new Error('expected request');
      r.tx.respond(respond(inv, 200));
      expect(layer.receiveRequest(request('INVITE'), w).type).toBe('retransmission');
      expect(w.sent.map((m) => m.status)).toEqual([100, 200]);
      expect(r.tx.respond(respond(inv, 200))).toBe(true); // 2xx retransmission forwarded by the proxy
      expect(layer.receiveRequest(request('ACK', 'z9hG4bKother'), w).type).toBe('ack-2xx');
      vi.advanceTimersByTime(64 * T1);
      expect(r.tx.state).toBe('terminated');
    });

    it('matches CANCEL to the INVITE it cancels', () => {
      const w = wire();
      const inv = request('INVITE');
      const r = layer.receiveRequest(inv, w);
      const c = layer.receiveRequest(request('CANCEL'), w);
      expect(c.type).toBe('cancel');
      if (c.type !== 'cancel' || r.type !== 'request') return;
      expect(c.invite).toBe(r.tx);
      expect(c.tx).not.toBe(r.tx);
      const other = layer.receiveRequest(request('CANCEL', 'z9hG4bKnomatch'), w);
      expect(other.type === 'cancel' && other.invite).toBeUndefined();
    });

    it('can delay 100 Trying and skip it when the TU answers first', () => {
      const l = new TransactionLayer({ trying: 200 });
      const w = wire();
      const inv = request('INVITE');
      const r = l.receiveRequest(inv, w);
      if (r.type !== 'request') throw new Error('expected request');
      r.tx.respond(respond(inv, 180));
      vi.advanceTimersByTime(300);
      expect(w.sent.map((m) => m.status)).toEqual([180]);
      const r2 = l.receiveRequest(request('INVITE', 'z9hG4bKsecond'), w);
      vi.advanceTimersByTime(300);
      expect(r2.type).toBe('request');
      expect(w.sent.map((m) => m.status)).toEqual([180, 100]);
      l.shutdown();
    });
  });

  describe('non-INVITE server', () => {
    it('absorbs retransmissions, resends the final, ends after Timer J', () => {
      const w = wire();
      const opt = request('OPTIONS');
      const r = layer.receiveRequest(opt, w);
      if (r.type !== 'request') throw new Error('expected request');
      expect(w.sent).toHaveLength(0); // no 100 for non-INVITE
      layer.receiveRequest(request('OPTIONS'), w);
      expect(w.sent).toHaveLength(0);
      r.tx.respond(respond(opt, 200));
      layer.receiveRequest(request('OPTIONS'), w);
      expect(w.sent.map((m) => m.status)).toEqual([200, 200]);
      vi.advanceTimersByTime(64 * T1);
      expect(r.tx.state).toBe('terminated');
      expect(layer.receiveRequest(request('OPTIONS'), w).type).toBe('request'); // a new transaction
    });
  });

  describe('RFC 2543 fallback matching', () => {
    it('matches requests without a magic-cookie branch (inv2543, badbranch)', () => {
      const w = wire();
      const inv = parseMessage(loadTorture('inv2543'), { datagram: true });
      const r = layer.receiveRequest(inv, w);
      expect(r.type).toBe('request');
      expect(layer.receiveRequest(parseMessage(loadTorture('inv2543'), { datagram: true }), w).type).toBe('retransmission');
      if (r.type !== 'request') return;
      r.tx.respond(parseMessage(buildResponse(inv, 404, undefined, { toTag: 'x1' }).toBuffer()));
      const ack = parseMessage(
        Buffer.from(
          'ACK sip:UserB@example.com SIP/2.0\r\nVia: SIP/2.0/UDP iftgw.example.com\r\nFrom: <sip:+13035551111@ift.client.example.net;user=phone>\r\n' +
            'To: sip:+16505552222@ss1.example.net;user=phone;tag=x1\r\nCall-ID: inv2543.1717@ift.client.example.com\r\nCSeq: 56 ACK\r\nContent-Length: 0\r\n\r\n',
        ),
      );
      expect(layer.receiveRequest(ack, w).type).toBe('ack-absorbed');
      const bb = parseMessage(loadTorture('badbranch'), { datagram: true });
      expect(layer.receiveRequest(bb, w).type).toBe('request');
      expect(layer.receiveRequest(parseMessage(loadTorture('badbranch'), { datagram: true }), w).type).toBe('retransmission');
    });
  });
});

describe('transactions over real UDP sockets', () => {
  it('a lost INVITE is retransmitted (Timer A) and answered; the 486 is ACKed hop by hop', async () => {
    const layer = new TransactionLayer({ timers: { T1: 20 } });
    const uas = dgram.createSocket('udp4');
    const uac = dgram.createSocket('udp4');
    await new Promise<void>((r) => uas.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => uac.bind(0, '127.0.0.1', r));
    const uasPort = uas.address().port;
    const seen: string[] = [];
    let dropped = false;
    uas.on('message', (d, rinfo) => {
      const m = parseMessage(d, { datagram: true });
      seen.push(m.method);
      if (m.method === 'INVITE' && !dropped) {
        dropped = true; // simulate loss of the first INVITE
        return;
      }
      if (m.method === 'INVITE') uas.send(buildResponse(m, 486, 'Busy Here', { toTag: 'u1' }).toBuffer(), rinfo.port, rinfo.address);
    });
    const final = new Promise<SipMessage>((resolve) => {
      uac.on('message', (d) => layer.receiveResponse(parseMessage(d, { datagram: true })));
      const inv = request('INVITE', generateBranch());
      layer.sendRequest(inv, { reliable: false, send: (data) => uac.send(data, uasPort, '127.0.0.1') }, { onResponse: (resp) => resp.status >= 200 && resolve(resp) });
    });
    expect((await final).status).toBe(486);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.slice(0, 2)).toEqual(['INVITE', 'INVITE']);
    expect(seen).toContain('ACK');
    layer.shutdown();
    uas.close();
    uac.close();
  });
});
