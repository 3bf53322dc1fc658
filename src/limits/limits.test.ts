// The limits' arithmetic on an explicit clock: token buckets, request windows, verdicts,
// exemptions, connection limits, one log line per peer and interval, the slow-reader guard.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { BucketTable, FairQueue, HitLog, PeerLimiter, RecentCount, Verdict, WriteGuard, exemptEntryProblem, resolvePeerLimits, DEFAULT_PEER_LIMITS } from './index.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) }) };
}

describe('BucketTable', () => {
  it('lets a burst through, then the rate; a refusal takes nothing', () => {
    const t = new BucketTable({ rate: 10, burst: 3 });
    expect([t.take('a', 0), t.take('a', 0), t.take('a', 0), t.take('a', 0)]).toEqual([true, true, true, false]);
    expect(t.take('b', 0)).toBe(true); // per key
    expect(t.take('a', 50)).toBe(false); // half a token
    expect(t.take('a', 100)).toBe(true); // one token after 100 ms at 10/s
    expect(t.take('a', 100)).toBe(false);
    expect(t.take('a', 10_000)).toBe(true); // refilled, capped at the burst
    expect([t.take('a', 10_000), t.take('a', 10_000), t.take('a', 10_000)]).toEqual([true, true, false]);
  });

  it('Retry-After: whole seconds until a token is back', () => {
    const t = new BucketTable({ rate: 0.5, burst: 1 });
    t.take('a', 0);
    expect(t.retryAfter('a', 0)).toBe(2);
    expect(t.retryAfter('a', 1500)).toBe(1);
    expect(t.retryAfter('unknown', 0)).toBe(1);
  });

  it('sweeps full buckets and stays within its size', () => {
    const t = new BucketTable({ rate: 1, burst: 2 }, 10);
    t.take('a', 0);
    t.take('b', 1000);
    t.sweep(1500); // a has refilled (2 tokens at 1 s), b not yet
    expect(t.size).toBe(1);
    for (let i = 0; i < 100; i++) t.take(`k${i}`, 2000);
    expect(t.size).toBeLessThanOrEqual(10);
  });
});

describe('RecentCount', () => {
  it('counts the last second in 100 ms slots and the last minute in 1 s slots', () => {
    const c = new RecentCount(0);
    c.add(0);
    c.add(50);
    c.add(950);
    expect(c.lastSecond(950)).toBe(3);
    expect(c.lastSecond(1050)).toBe(1); // the slot of 0–99 ms went by
    expect(c.lastMinute(1050)).toBe(3);
    c.add(30_000);
    expect(c.lastSecond(30_000)).toBe(1);
    expect(c.lastMinute(59_999)).toBe(4);
    expect(c.lastMinute(60_500)).toBe(1); // second 0 went by
    expect(c.lastMinute(200_000)).toBe(0);
    expect(c.idle(200_000)).toBe(true);
  });
});

describe('PeerLimiter', () => {
  const make = (over: Parameters<typeof resolvePeerLimits>[0] = {}, own?: (a: string, p: number) => boolean) => {
    let now = 1_000_000;
    const log = capture();
    const l = new PeerLimiter(resolvePeerLimits({ requests_per_ip: { rate: 10, burst: 2 }, replies_per_ip: { rate: 1, burst: 2 }, log_interval_s: 10, ...over }), { logger: log.logger, now: () => now, isOwnSocket: own });
    return { l, log, tick: (ms: number) => (now += ms) };
  };

  it('reconfigure (a reload): unchanged limits keep every budget and block, changed ones start afresh', () => {
    const { l, tick } = make();
    const burst = () => Array.from({ length: 6 }, () => l.request('192.0.2.1', 5060, false));
    expect(burst()).toEqual([Verdict.Pass, Verdict.Pass, Verdict.Reject, Verdict.Reject, Verdict.Drop, Verdict.Drop]);
    expect(l.connection('192.0.2.5', 1, false)).toBe('ok');
    // the same limits again: the peer stays blocked
    l.reconfigure(resolvePeerLimits({ requests_per_ip: { rate: 10, burst: 2 }, replies_per_ip: { rate: 1, burst: 2 }, log_interval_s: 10 }));
    expect(l.request('192.0.2.1', 5060, false)).toBe(Verdict.Drop);
    // a higher rate: a fresh budget, applied at once
    l.reconfigure(resolvePeerLimits({ requests_per_ip: { rate: 10, burst: 5 }, replies_per_ip: { rate: 1, burst: 2 }, log_interval_s: 10 }));
    expect(Array.from({ length: 6 }, () => l.request('192.0.2.1', 5060, false))).toEqual([Verdict.Pass, Verdict.Pass, Verdict.Pass, Verdict.Pass, Verdict.Pass, Verdict.Drop]);
    // exempt now: never limited
    l.reconfigure(resolvePeerLimits({ requests_per_ip: { rate: 10, burst: 5 }, replies_per_ip: { rate: 1, burst: 2 }, exempt: ['192.0.2.0/24'] }));
    expect(l.request('192.0.2.1', 5060, false)).toBe(Verdict.Drop); // a block in force runs out (within a token's time); exemption spares the overruns after it
    tick(1000);
    expect(Array.from({ length: 10 }, () => l.request('192.0.2.1', 5060, false))).toEqual(Array(10).fill(Verdict.Pass));
    // off: everything passes; counters and open connections carried over
    l.reconfigure(resolvePeerLimits({ requests_per_ip: false }));
    expect(burst()).toEqual(Array(6).fill(Verdict.Pass));
    expect(l.snapshot()).toMatchObject({ requests_rejected: 2, requests_dropped: 5 });
    expect(l.openFrom('192.0.2.5')).toBe(1);
    l.close();
  });

  it('passes within the rate, answers 503 while the reply budget lasts, then drops (UDP) or closes (stream)', () => {
    const { l, log } = make();
    const v = Array.from({ length: 6 }, () => l.request('192.0.2.1', 5060, false));
    expect(v).toEqual([Verdict.Pass, Verdict.Pass, Verdict.Reject, Verdict.Reject, Verdict.Drop, Verdict.Drop]);
    expect(l.request('192.0.2.2', 5060, false)).toBe(Verdict.Pass); // another peer is not affected
    expect(l.request('192.0.2.1', 5060, true)).toBe(Verdict.Drop);
    expect(l.snapshot()).toMatchObject({ requests_rejected: 2, requests_dropped: 2, connections_closed: 1 });
    // one line for the peer in this interval, with the hits counted
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ msg: 'limit: requests_per_ip exceeded', limit: 'requests_per_ip', peer: '192.0.2.1', action: 'reply_503', hits: 1 });
    l.close(); // the hits since are reported once
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]).toMatchObject({ peer: '192.0.2.1', hits: 4 });
  });

  it('a peer blocked past its 503 budget stays blocked while it keeps sending over its rate, and is back soon after it slows down', () => {
    const { l, tick } = make(); // 10/s, burst 2; 503s: 1/s, burst 2
    for (let i = 0; i < 4; i++) l.request('192.0.2.1', 5060, false); // 2 pass, 2 answered 503
    expect(l.request('192.0.2.1', 5060, false)).toBe(Verdict.Drop);
    // a flood: 100/s for 5 s, ten times its rate: nothing passes, nothing is answered
    const during: Verdict[] = [];
    for (let i = 0; i < 500; i++) {
      tick(10);
      during.push(l.request('192.0.2.1', 5060, false));
    }
    expect(during.filter((v) => v !== Verdict.Drop)).toEqual([]);
    // slightly over its rate (12/s): still blocked
    for (let i = 0; i < 60; i++) {
      tick(1000 / 12);
      expect(l.request('192.0.2.1', 5060, false)).toBe(Verdict.Drop);
    }
    // quiet for (1 + burst) / rate seconds: served again
    tick(300);
    expect(l.request('192.0.2.1', 5060, false)).toBe(Verdict.Pass);
    // within its rate from then on: every request passes
    for (let i = 0; i < 50; i++) {
      tick(120);
      expect(l.request('192.0.2.1', 5060, false)).toBe(Verdict.Pass);
    }
    expect(l.snapshot().requests_rejected).toBe(2);
    l.close();
  });

  it('Retry-After is the configured value, else when the bucket has a token again', () => {
    const a = make();
    a.l.request('192.0.2.1', 1, false);
    a.l.request('192.0.2.1', 1, false);
    expect(a.l.retryAfter('192.0.2.1', false)).toBe(1);
    expect(make({ retry_after_s: 30 }).l.retryAfter('192.0.2.1', false)).toBe(30);
    a.l.close();
  });

  it('never limits exempt blocks nor the gateway\'s own sockets', () => {
    const { l } = make({ exempt: ['10.0.0.0/8', '2001:db8::1'] }, (a, p) => a === '127.0.0.1' && p === 5060);
    for (let i = 0; i < 10; i++) {
      expect(l.request('10.1.2.3', 5060, false)).toBe(Verdict.Pass);
      expect(l.request('2001:db8::1', 5060, false)).toBe(Verdict.Pass);
      expect(l.request('127.0.0.1', 5060, false)).toBe(Verdict.Pass);
    }
    expect(l.request('127.0.0.1', 5070, false)).toBe(Verdict.Pass);
    expect(l.request('127.0.0.1', 5070, false)).toBe(Verdict.Pass);
    expect(l.request('127.0.0.1', 5070, false)).toBe(Verdict.Reject); // same address, not our socket
    l.close();
  });

  it('limits verified identities over all their connections', () => {
    const { l } = make({ requests_per_identity: { rate: 1, burst: 1 }, requests_per_ip: false });
    expect(l.identityRequest('CN=a', '192.0.2.1', 1, true)).toBe(Verdict.Pass);
    expect(l.identityRequest('CN=a', '192.0.2.9', 2, true)).toBe(Verdict.Reject);
    expect(l.identityRequest('CN=b', '192.0.2.1', 1, true)).toBe(Verdict.Pass);
    expect(l.request('192.0.2.1', 1, true)).toBe(Verdict.Pass); // per-address limit off
    expect(l.snapshot().identity_limited).toBe(1);
    l.close();
  });

  it('connections: per-second rate, open at once, TLS handshakes', () => {
    const { l, tick } = make({ connections_per_ip: { rate: 1, burst: 3, max_open: 2 }, tls_handshakes_per_ip: { rate: 0.5, burst: 1 } });
    expect(l.connection('192.0.2.1', 1, false)).toBe('ok');
    expect(l.connection('192.0.2.1', 2, false)).toBe('ok');
    expect(l.connection('192.0.2.1', 3, false)).toBe('open_connections_per_ip');
    l.connectionClosed('192.0.2.1');
    expect(l.openFrom('192.0.2.1')).toBe(1);
    expect(l.connection('192.0.2.1', 4, true)).toBe('ok'); // the third of the burst, the first handshake
    l.connectionClosed('192.0.2.1');
    l.connectionClosed('192.0.2.1');
    expect(l.connection('192.0.2.1', 5, false)).toBe('connections_per_ip'); // burst of 3 used up
    tick(1000);
    expect(l.connection('192.0.2.1', 6, true)).toBe('tls_handshakes_per_ip'); // a connection token, but no handshake token
    tick(1000);
    expect(l.connection('192.0.2.1', 7, true)).toBe('ok');
    expect(l.snapshot()).toMatchObject({ connections_refused_open: 1, connections_refused_rate: 1, handshakes_refused: 1 });
    l.close();
  });

  it('enabled: false enforces nothing', () => {
    const { l } = make({ enabled: false });
    for (let i = 0; i < 100; i++) expect(l.request('192.0.2.1', 1, false)).toBe(Verdict.Pass);
    expect(l.connection('192.0.2.1', 1, true)).toBe('ok');
    expect(l.limitsRequests).toBe(false);
    l.close();
  });
});

describe('HitLog', () => {
  it('logs a peer once per interval, then the hits counted meanwhile', () => {
    const { lines, logger } = capture();
    const h = new HitLog(logger, 10_000);
    for (let i = 0; i < 1000; i++) h.hit('requests_per_ip', '192.0.2.1', 'drop', i);
    h.hit('requests_per_ip', '192.0.2.2', 'drop', 5);
    expect(lines.map((l) => l.peer)).toEqual(['192.0.2.1', '192.0.2.2']);
    h.sweep(5_000); // interval not over
    expect(lines).toHaveLength(2);
    h.sweep(10_000);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ peer: '192.0.2.1', hits: 999 });
    h.hit('requests_per_ip', '192.0.2.1', 'drop', 12_000); // within the new interval: counted only
    expect(lines).toHaveLength(3);
    h.hit('requests_per_ip', '192.0.2.1', 'drop', 20_001);
    expect(lines[3]).toMatchObject({ peer: '192.0.2.1', hits: 2 });
  });
});

describe('config', () => {
  it('defaults, and false switches one limit off', () => {
    expect(resolvePeerLimits()).toEqual(DEFAULT_PEER_LIMITS);
    const r = resolvePeerLimits({ requests_per_identity: false, connections_per_ip: { rate: 5, burst: 5 }, requests_per_ip: { rate: 1, burst: 1 } });
    expect(r.requestsPerIdentity).toBeNull();
    expect(r.connectionsPerIp).toEqual({ rate: 5, burst: 5 });
    expect(r.maxOpenPerIp).toBe(DEFAULT_PEER_LIMITS.maxOpenPerIp);
    expect(r.requestsPerIp).toEqual({ rate: 1, burst: 1 });
    expect(resolvePeerLimits({ connections_per_ip: false }).maxOpenPerIp).toBeNull();
  });

  it('exempt entries are addresses or CIDR blocks', () => {
    expect(exemptEntryProblem('10.0.0.0/8')).toBeUndefined();
    expect(exemptEntryProblem('::1')).toBeUndefined();
    expect(exemptEntryProblem('10.0.0.0/33')).toMatch(/prefix/);
    expect(exemptEntryProblem('example.com')).toMatch(/not an IP/);
  });
});

describe('WriteGuard', () => {
  const make = () => {
    const sock = { writableLength: 0 };
    const stalls: [string, number][] = [];
    const g = new WriteGuard(sock, { maxQueueBytes: 1000, sendTimeoutMs: 40 }, (r, q) => void stalls.push([r, q]));
    return { sock, stalls, g };
  };

  it('stalls when the queue is still over its limit a moment after the batch', async () => {
    const { sock, stalls, g } = make();
    g.wrote(500);
    g.check(); // nothing queued
    g.wrote(2000);
    sock.writableLength = 1500;
    g.check();
    expect(stalls).toEqual([]); // the batch itself: not yet
    await new Promise((r) => setTimeout(r, 60));
    expect(stalls).toEqual([['write_queue', 1500]]);
    g.check();
    await new Promise((r) => setTimeout(r, 60));
    expect(stalls).toHaveLength(1); // once
  });

  it('a burst over the limit that drains at once is no slow reader', async () => {
    const { sock, stalls, g } = make();
    g.wrote(5000);
    sock.writableLength = 5000;
    g.check();
    sock.writableLength = 0; // the peer took it
    await new Promise((r) => setTimeout(r, 60));
    expect(stalls).toEqual([]);
    g.stop();
  });

  it('stalls when queued bytes make no progress for the send timeout, not while they drain', async () => {
    const { sock, stalls, g } = make();
    g.wrote(800);
    sock.writableLength = 800;
    g.check();
    await new Promise((r) => setTimeout(r, 25));
    sock.writableLength = 400; // the peer took some
    await new Promise((r) => setTimeout(r, 30)); // timer fired: progress, re-armed
    expect(stalls).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 80)); // no progress since
    expect(stalls).toEqual([['send_timeout', 400]]);
  });

  it('an emptied queue disarms it', async () => {
    const { sock, stalls, g } = make();
    g.wrote(800);
    sock.writableLength = 800;
    g.check();
    sock.writableLength = 0;
    g.check();
    await new Promise((r) => setTimeout(r, 80));
    expect(stalls).toHaveLength(0);
    g.stop();
  });
});

describe('FairQueue', () => {
  it('serves sources round-robin, keeps each source in order, and bounds each source', async () => {
    const done: string[] = [];
    const q = new FairQueue<string>((x) => done.push(x), { maxPerSource: 10, maxTotal: 1000, sliceMs: 1000, busySliceMs: 1000, busyBatch: 32 });
    for (let i = 0; i < 50; i++) q.push('192.0.2.2', `flood-${i}`);
    q.push('192.0.2.3', 'legit-0');
    q.push('192.0.2.3', 'legit-1');
    expect(q.dropped).toBe(40);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    // the legitimate peer's two are served in the first two rounds, not after the flooder's ten
    expect(done.slice(0, 4)).toEqual(['flood-0', 'legit-0', 'flood-1', 'legit-1']);
    expect(done.filter((x) => x.startsWith('flood'))).toEqual(Array.from({ length: 10 }, (_, i) => `flood-${i}`));
    expect(q.length).toBe(0);
  });

  it('a source refused because the whole queue is full leaves nothing behind', async () => {
    const done: string[] = [];
    const q = new FairQueue<string>((x) => done.push(x), { maxPerSource: 10, maxTotal: 3, sliceMs: 1000, busySliceMs: 1000, busyBatch: 32 });
    for (let i = 0; i < 3; i++) q.push('192.0.2.2', `a-${i}`);
    expect(q.push('192.0.2.9', 'refused')).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual(['a-0', 'a-1', 'a-2']);
    expect(q.length).toBe(0);
    // the count stayed true: the next item is processed
    q.push('192.0.2.9', 'next');
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual(['a-0', 'a-1', 'a-2', 'next']);
  });

  it('yields between short slices while reading is backlogged', async () => {
    let t = 0;
    const done: number[] = [];
    const q = new FairQueue<number>((x) => (done.push(x), (t += 1)), { maxPerSource: 100, maxTotal: 1000, sliceMs: 50, busySliceMs: 2, busyBatch: 32, now: () => t });
    for (let i = 0; i < 40; i++) q.push(`192.0.2.${i}`, i); // 40 at once: backlogged
    await new Promise((r) => setImmediate(r));
    expect(done.length).toBe(2); // a short slice: 2 ms of processing (each takes 1 on this clock)
    await new Promise((r) => setImmediate(r));
    expect(done.length).toBe(40); // nothing read since: a long slice takes the rest
    expect(done).toEqual(Array.from({ length: 40 }, (_, i) => i)); // one per source, in turn
  });
});
