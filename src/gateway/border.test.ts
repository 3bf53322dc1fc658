// Per-peer limits on real sockets: each peer on its own address of 127.0.0.0/8, one gateway with
// tight limits for the whole file. Assertions are on counts (who got which answer, which
// connection was refused, how many log lines), never on timings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import * as net from 'node:net';
import pino from 'pino';
import { Gateway } from './gateway.js';
import { makePki, topologyConfig, writeTestPolicy, type TestPki } from './testing/topology.js';
import { TlsPeerServer, UdpPeer, isResp, tlsClient, type StreamPeer } from './testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';
import { legitUdp, udpFlood } from '../limits/testing/load-peers.js';

const ready = await compilerReady();

describe.skipIf(!ready)('per-peer limits', () => {
  let pki: TestPki;
  let gw: Gateway;
  let biloxi: TlsPeerServer;
  let udpPort = 0;
  let tlsPort = 0;
  let tcpPort = 0;
  const logLines: Record<string, unknown>[] = [];
  const limitLines = (peer: string) => logLines.filter((l) => String(l.msg).startsWith('limit: ') && l.peer === peer);

  beforeAll(async () => {
    pki = await makePki();
    biloxi = new TlsPeerServer({ ...pki.text.biloxi, ca: pki.text.fedBCa });
    await biloxi.listen();
    const policyDir = writeTestPolicy(join(pki.dir.path, 'policy'), { host: '127.0.0.1', port: biloxi.port });
    const loaded = topologyConfig(pki, policyDir, { fedB: [`127.0.0.1:${biloxi.port}`] }, {
      limits: {
        peers: {
          requests_per_ip: { rate: 5, burst: 10 },
          requests_per_identity: { rate: 2, burst: 6 },
          replies_per_ip: { rate: 1, burst: 4 },
          connections_per_ip: { rate: 0.1, burst: 5, max_open: 2 },
          tls_handshakes_per_ip: { rate: 0.1, burst: 3 },
          log_interval_s: 600,
        },
      },
      log: { level: 'info', decisions: true, decision_input: true },
      // decisions in this thread: the requests let through just before the border closes a
      // connection are then answered before it closes (an evaluation worker answers too late)
      policy: { path: policyDir, eval_timeout_ms: 10_000, workers: 0 },
    });
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    gw = await Gateway.start(loaded, { logger });
    udpPort = gw.listener('udp').port;
    tlsPort = gw.listener('tls', 'fedA').port;
    tcpPort = gw.listener('tcp').port;
  }, 300_000); // the policy compiles at start: slow on a busy machine

  afterAll(async () => {
    await gw?.stop();
    await biloxi?.close();
    pki?.dir.remove();
  });

  const options = (callId: string, via: string, method = 'OPTIONS') =>
    [
      `${method} sip:127.0.0.1:${udpPort} SIP/2.0`,
      `Via: SIP/2.0/${via};branch=z9hG4bK-${callId}`,
      'Max-Forwards: 70',
      'From: <sip:peer@atlanta.example>;tag=t1',
      `To: <sip:127.0.0.1:${udpPort}>`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');

  it('a UDP flooder is answered 503 then dropped; a legitimate peer on another address gets every answer; one log line', async () => {
    const before = gw.border.limiter.snapshot();
    const [flood, legit] = await Promise.all([
      udpFlood({ from: '127.0.0.2', port: udpPort, seconds: 60, maxMessages: 3000, ruri: `sip:127.0.0.1:${udpPort}` }),
      legitUdp({ from: '127.0.0.3', port: udpPort, rate: 10, seconds: 1, graceMs: 30_000 }),
    ]);
    // the legitimate peer (10 requests, within its budget) got all its answers
    expect(legit.answered).toBe(legit.sent);
    expect(legit.statuses).toEqual({ '200': legit.sent });
    // the flooder: its burst passed, a few 503s, the rest dropped unanswered
    const after = gw.border.limiter.snapshot();
    expect(flood.replies['503']).toBeGreaterThanOrEqual(4);
    expect(after.requests_rejected - before.requests_rejected).toBeLessThan(100);
    // (dropped here, or by the kernel when the flooder's own socket buffer was full: udp-flows.ts)
    expect(after.requests_dropped - before.requests_dropped).toBeGreaterThan(10 * (after.requests_rejected - before.requests_rejected));
    expect(Object.values(flood.replies).reduce((a, b) => a + b, 0)).toBeLessThan(500);
    // thousands of hits, one line
    expect(limitLines('127.0.0.2')).toHaveLength(1);
    expect(limitLines('127.0.0.2')[0]).toMatchObject({ limit: 'requests_per_ip', action: 'reply_503', level: 40 });
    expect(limitLines('127.0.0.3')).toHaveLength(0);
  });

  it('the 503 carries Retry-After; an ACK over the limit is not answered', async () => {
    const ua = new UdpPeer();
    await ua.bind('127.0.0.8');
    try {
      for (let i = 0; i < 10; i++) ua.send(options(`burst-${i}`, `UDP 127.0.0.8:${ua.port}`), udpPort);
      await ua.inbox.wait((m) => isResp(200)(m) && m.callId === 'burst-9', '200 to the tenth');
      ua.send(options('over-ack', `UDP 127.0.0.8:${ua.port}`, 'ACK'), udpPort);
      ua.send(options('over-1', `UDP 127.0.0.8:${ua.port}`), udpPort);
      const r = await ua.inbox.wait((m) => isResp(503)(m) && m.callId === 'over-1', '503');
      expect(Number(r.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(ua.inbox.messages.filter((m) => m.callId === 'over-ack')).toHaveLength(0);
    } finally {
      ua.close();
    }
  });

  it('the policy sees the request counts of the flow and of the verified identity', async () => {
    const ua = new UdpPeer();
    await ua.bind('127.0.0.6');
    const atlanta1 = await tlsClient(tlsPort, pki.text.atlanta, pki.text.fedACa, '127.0.0.9');
    let atlanta2: StreamPeer | undefined;
    try {
      for (let i = 1; i <= 3; i++) {
        ua.send(options(`stats-${i}`, `UDP 127.0.0.6:${ua.port}`), udpPort);
        await ua.inbox.wait((m) => isResp(200)(m) && m.callId === `stats-${i}`, `200 ${i}`);
      }
      const statsOf = (callId: string) => (logLines.find((l) => l.msg === 'decision' && l.call_id === callId)?.input as { connection: { stats: Record<string, { last_second: number; last_minute: number }> } }).connection.stats;
      expect(statsOf('stats-3').flow!.last_minute).toBe(3);
      expect(statsOf('stats-3').flow!.last_second).toBeGreaterThanOrEqual(1);
      expect(statsOf('stats-1').flow!.last_minute).toBe(1);
      expect(statsOf('stats-3').identity).toBeUndefined(); // UDP: no verified identity

      // one partner, two connections: the identity's counts span both
      atlanta1.send(options('id-1', 'TLS 127.0.0.9:5061'));
      await atlanta1.inbox.wait((m) => m.kind === 'response' && m.status >= 200 && m.callId === 'id-1', 'answer 1');
      atlanta2 = await tlsClient(tlsPort, pki.text.atlanta, pki.text.fedACa, '127.0.0.10');
      atlanta2.send(options('id-2', 'TLS 127.0.0.10:5061'));
      await atlanta2.inbox.wait((m) => m.kind === 'response' && m.status >= 200 && m.callId === 'id-2', 'answer 2');
      expect(statsOf('id-2')).toEqual({ flow: { last_second: expect.any(Number), last_minute: 1 }, identity: { last_second: expect.any(Number), last_minute: 2 } });
    } finally {
      ua.close();
      atlanta1.socket.destroy();
      atlanta2?.socket.destroy();
    }
  });

  it('a verified identity over its rate gets 503, then its connection is closed with a log line', async () => {
    // the atlanta certificate has used 2 of its burst of 6 above; its rate is 2/s
    const before = gw.border.limiter.snapshot();
    const peer = await tlsClient(tlsPort, pki.text.atlanta, pki.text.fedACa, '127.0.0.11');
    for (let i = 0; i < 30; i++) peer.send(options(`id-flood-${i}`, 'TLS 127.0.0.11:5061'));
    await peer.closed;
    const answers = peer.inbox.messages.filter((m) => m.kind === 'response' && m.status >= 200);
    const ok = answers.filter((m) => m.status === 200).length;
    const busy = answers.filter((m) => m.status === 503);
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(10);
    expect(busy.length).toBe(4); // the address's 503 budget, then the connection closes
    expect(busy[0]!.get('retry-after')).toMatch(/^\d+$/);
    expect(answers.length).toBeLessThan(30);
    const after = gw.border.limiter.snapshot();
    expect(after.identity_limited - before.identity_limited).toBeGreaterThanOrEqual(5);
    expect(after.connections_closed - before.connections_closed).toBe(1);
    expect(logLines.some((l) => l.msg === 'limit: peer over its request limit and 503 budget; closing connection' && l.identity === 'CN=sip.atlanta.example,O=FedA')).toBe(true);
  });

  const tcpConnect = (from: string): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: tcpPort, localAddress: from }, () => resolve(s));
      s.once('error', reject);
    });
  /** whether the gateway closed the connection (within a bounded wait) */
  const closedByGateway = (s: net.Socket, ms = 3000): Promise<boolean> =>
    new Promise((resolve) => {
      if (s.destroyed || s.readableEnded) return resolve(true);
      const t = setTimeout(() => resolve(false), ms);
      s.once('close', () => (clearTimeout(t), resolve(true)));
      s.once('end', () => (clearTimeout(t), resolve(true)));
      s.on('error', () => {});
    });

  it('TLS handshakes per address: past the burst, connections are closed before any TLS', async () => {
    const before = gw.border.limiter.snapshot();
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      results.push(
        await tlsClient(tlsPort, pki.text.atlanta, pki.text.fedACa, '127.0.0.4').then(
          (p) => (p.socket.destroy(), 'handshake'),
          () => 'refused',
        ),
      );
    }
    expect(results).toEqual(['handshake', 'handshake', 'handshake', 'refused', 'refused']);
    expect(gw.border.limiter.snapshot().handshakes_refused - before.handshakes_refused).toBe(2);
    expect(limitLines('127.0.0.4').map((l) => l.limit)).toEqual(['tls_handshakes_per_ip']);
  });

  it('open connections per address: the third is closed at once, a fourth after one closed is accepted', async () => {
    const a = await tcpConnect('127.0.0.5');
    const b = await tcpConnect('127.0.0.5');
    const c = await tcpConnect('127.0.0.5');
    expect(await closedByGateway(c)).toBe(true);
    expect(await closedByGateway(a, 300)).toBe(false);
    a.destroy();
    await new Promise((r) => setTimeout(r, 100));
    // the gateway saw the close before it sees the next connection (bounded retries)
    let d = await tcpConnect('127.0.0.5');
    for (let i = 0; i < 20 && (await closedByGateway(d, 300)); i++) d = await tcpConnect('127.0.0.5');
    expect(await closedByGateway(d, 300)).toBe(false);
    expect(gw.border.limiter.openFrom('127.0.0.5')).toBe(2);
    b.destroy();
    d.destroy();
    expect(limitLines('127.0.0.5').map((l) => l.limit)).toEqual(['open_connections_per_ip']);
  });

  it('new connections per second per address', async () => {
    const socks: net.Socket[] = [];
    const closed: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await tcpConnect('127.0.0.7');
      socks.push(s);
      closed.push(await closedByGateway(s, 200));
      s.destroy(); // stay under max_open
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(closed).toEqual([false, false, false, false, false, true]);
    expect(limitLines('127.0.0.7').map((l) => l.limit)).toEqual(['connections_per_ip']);
  });
});
