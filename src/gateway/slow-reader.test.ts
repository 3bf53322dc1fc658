// Slow readers on real TLS connections: the far proxy (biloxi) stops reading while atlanta keeps
// sending it large MESSAGEs through the gateway. The gateway must disconnect biloxi with a log
// line, fail the transactions that were on that connection as RFC 3261 says (transport error →
// 503 upstream), and keep serving everyone else meanwhile. The other way round, a caller that
// stops reading: its connection is closed, its INVITE's server transaction fails (§17.2.4) and
// the branch downstream, with no one left to answer, is cancelled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pino from 'pino';
import { Gateway } from './gateway.js';
import { makePki, topologyConfig, writeTestPolicy, type TestPki } from './testing/topology.js';
import { TlsPeerServer, UdpPeer, answer, isReq, isResp, sip, tlsClient, type StreamPeer } from './testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';

const ready = await compilerReady();

describe.skipIf(!ready)('slow readers', () => {
  let pki: TestPki;
  let gw: Gateway;
  let biloxi: TlsPeerServer;
  let atlanta: StreamPeer;
  let pauseNew = true;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    pki = await makePki();
    biloxi = new TlsPeerServer({ ...pki.text.biloxi, ca: pki.text.fedBCa });
    // biloxi stops reading every connection the gateway opens (until told otherwise)
    biloxi.server.on('secureConnection', (s) => {
      if (pauseNew) s.pause();
    });
    await biloxi.listen();
    const policyDir = writeTestPolicy(join(pki.dir.path, 'policy'), { host: '127.0.0.1', port: biloxi.port });
    const loaded = topologyConfig(pki, policyDir, { fedB: [`127.0.0.1:${biloxi.port}`] }, {
      limits: { write_queue_bytes: 262144, send_timeout_ms: 1500, peers: { requests_per_ip: { rate: 1000, burst: 2000 }, requests_per_identity: false } },
      log: { level: 'info', decisions: false },
      // decisions in this thread: each MESSAGE is forwarded as it arrives. With an evaluation
      // worker, those decided after the slow connection closed queue up for the next one while it
      // connects, past write_queue_bytes, and it is closed as slow too.
      policy: { path: policyDir, eval_timeout_ms: 10_000, workers: 0 },
    });
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    gw = await Gateway.start(loaded, { logger });
    atlanta = await tlsClient(gw.listener('tls', 'fedA').port, pki.text.atlanta, pki.text.fedACa);
  }, 300_000); // the policy compiles at start: slow on a busy machine

  afterAll(async () => {
    atlanta?.socket.destroy();
    await gw?.stop();
    await biloxi?.close();
    pki?.dir.remove();
  });

  const body = 'x'.repeat(50_000);
  const message = (callId: string) =>
    sip(
      [
        'MESSAGE sip:bob@biloxi.example SIP/2.0',
        `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${callId}`,
        'Max-Forwards: 70',
        `From: <sip:alice@atlanta.example>;tag=${callId}`,
        'To: <sip:bob@biloxi.example>',
        `Call-ID: ${callId}`,
        'CSeq: 1 MESSAGE',
        'Content-Type: text/plain',
      ],
      body,
    );

  it('disconnects a peer that stops reading, fails its transactions with 503 upstream, and serves others meanwhile', async () => {
    const notReading = () => logLines.filter((l) => l.msg === 'sip: peer is not reading; closing connection');
    // a bystander on UDP asks the gateway itself every 50 ms while the stall builds up
    const ua = new UdpPeer();
    await ua.bind('127.0.0.12');
    const udpPort = gw.listener('udp').port;
    let asked = 0;
    const ask = setInterval(() => {
      const n = ++asked;
      ua.send(
        [`OPTIONS sip:127.0.0.1:${udpPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.12:${ua.port};branch=z9hG4bK-by${n}`, 'Max-Forwards: 70', 'From: <sip:by@atlanta.example>;tag=b', `To: <sip:127.0.0.1:${udpPort}>`, `Call-ID: by-${n}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
        udpPort,
      );
    }, 50);
    try {
      // atlanta sends until the gateway gives up on biloxi (bounded: 600 × 50 KB)
      let sent = 0;
      for (; sent < 600 && notReading().length === 0; sent++) {
        atlanta.send(message(`m-${sent}`));
        if (sent % 20 === 19) await new Promise((r) => setTimeout(r, 20));
      }
      await atlanta.inbox.wait(isResp(503), '503 for a MESSAGE stuck on the closed connection', 30_000);
      const line = notReading()[0]!;
      expect(line).toMatchObject({ level: 40, transport: 'tls', remote: { address: '127.0.0.1', port: biloxi.port } });
      expect(['write_queue', 'send_timeout']).toContain(line.reason);
      expect(line.queued_bytes).toBeGreaterThan(0);
      expect(logLines.some((l) => l.msg === 'proxy: connection closed; its transactions failed' && (l.transactions as number) >= 1)).toBe(true);
      expect(gw.border.limiter.snapshot().slow_readers_closed).toBeGreaterThanOrEqual(1);
      const busy = atlanta.inbox.messages.filter(isResp(503));
      expect(busy[0]!.reason).toBe('Service Unavailable');
      expect(busy[0]!.callId).toMatch(/^m-\d+$/);
    } finally {
      clearInterval(ask);
    }
    // every bystander request was answered, the ones asked during the stall included
    await ua.inbox.wait((m) => isResp(200)(m) && m.callId === `by-${asked}`, 'the last bystander answer', 30_000);
    expect(new Set(ua.inbox.messages.filter(isResp(200)).map((m) => m.callId)).size).toBe(asked);
    expect(asked).toBeGreaterThan(1);
    ua.close();

    // biloxi reads again: the next MESSAGE goes out on a new connection and arrives
    pauseNew = false;
    const stalled = new Set(biloxi.peers.map((p) => p.socket));
    for (const s of stalled) s.destroy();
    // the gateway has seen those connections close (else the next MESSAGE may still be written
    // to one of them, and fail with 503 as it should)
    const openToStalled = () => gw.transports.connections.some((f) => [...stalled].some((s) => s.remotePort === f.local.port));
    for (let i = 0; i < 300 && openToStalled(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(openToStalled()).toBe(false);
    atlanta.send(message('after'));
    const after = await biloxi.inbox.wait((m) => isReq('MESSAGE')(m) && m.callId === 'after', 'MESSAGE after the slow reader', 30_000);
    expect(after.body.length).toBe(body.length);
  });
  it('a caller that stops reading: disconnected, its INVITE\'s server transaction fails and the branch downstream is cancelled', async () => {
    // runs after the test above: biloxi reads again; the caller is a new atlanta connection that
    // stops reading once its INVITE is sent, while biloxi answers with large provisional responses
    const linesBefore = logLines.length;
    const caller = await tlsClient(gw.listener('tls', 'fedA').port, pki.text.atlanta, pki.text.fedACa);
    caller.send(
      sip([
        'INVITE sip:bob@biloxi.example SIP/2.0',
        'Via: SIP/2.0/TLS 127.0.0.1:5998;branch=z9hG4bK-slow-inv',
        'Max-Forwards: 70',
        'From: <sip:alice@atlanta.example>;tag=slow',
        'To: <sip:bob@biloxi.example>',
        'Call-ID: slow-invite',
        'CSeq: 1 INVITE',
        'Contact: <sip:alice@127.0.0.1:5998;transport=tls>',
      ]),
    );
    caller.socket.pause();
    const invite = await biloxi.inbox.wait((m) => isReq('INVITE')(m) && m.callId === 'slow-invite', 'the INVITE at biloxi', 30_000);
    const far = biloxi.peerOf(invite);
    const body = 'y'.repeat(50_000);
    const progress = Buffer.from(
      answer(invite, 183, 'Session Progress', { toTag: 'far' })
        .toBuffer()
        .toString('latin1')
        .replace('Content-Length: 0\r\n\r\n', `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
      'latin1',
    );
    const closedCaller = () => logLines.slice(linesBefore).some((l) => l.msg === 'sip: peer is not reading; closing connection');
    for (let i = 0; i < 600 && !closedCaller(); i++) {
      far.send(progress);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 20));
    }
    const cancel = await biloxi.inbox.wait((m) => isReq('CANCEL')(m) && m.callId === 'slow-invite', 'the CANCEL at biloxi', 30_000);
    expect(closedCaller()).toBe(true);
    expect(cancel.cseq).toEqual({ seq: 1, method: 'CANCEL' });
    expect(cancel.topVia?.branch).toBe(invite.topVia?.branch);
    // biloxi ends the INVITE (487), the gateway completes its client transaction (ACK)
    far.send(answer(cancel, 200, 'OK', { toTag: 'far' }));
    far.send(answer(invite, 487, 'Request Terminated', { toTag: 'far' }));
    await biloxi.inbox.wait((m) => isReq('ACK')(m) && m.callId === 'slow-invite', 'the ACK of the 487', 30_000);
    // the gateway closed the caller's connection (seen once the caller reads again)
    caller.socket.resume();
    await caller.closed;
  });
});
