// Load peers for the flood tests and the border benchmark: a UDP flooder, a legitimate UDP or TLS
// user agent that sends a steady rate of OPTIONS (retransmitting like RFC 3261 Timer E) and
// measures how long each took to be answered, and a TLS handshake flooder. All bind to an address
// of 127.0.0.0/8 given by the caller, all stop by themselves. Test and benchmark code only.
import * as dgram from 'node:dgram';
import * as tls from 'node:tls';
import * as net from 'node:net';
import { StreamFramer, parseDatagram } from '../../sip/framing.js';

export interface FloodResult {
  sent: number;
  /** CPU this process used while flooding (ms) */
  cpuMs: number;
  /** final responses received, by status */
  replies: Record<string, number>;
  seconds: number;
}

function options(target: string, via: string, callId: string, branch: string, method = 'OPTIONS', ruri = `sip:${target}`): string {
  return (
    `${method} ${ruri} SIP/2.0\r\n` +
    `Via: SIP/2.0/${via};branch=z9hG4bK-${branch}\r\n` +
    'Max-Forwards: 70\r\n' +
    `From: <sip:load@${target}>;tag=${branch}\r\n` +
    `To: <${ruri}>\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: 1 ${method}\r\n` +
    (method === 'INVITE' ? `Contact: <sip:load@${via.split(' ')[1]}>\r\n` : '') +
    'Content-Length: 0\r\n\r\n'
  );
}

function bindUdp(address: string): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, address, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

/**
 * Sends OPTIONS and INVITE (alternating, each a new transaction, addressed to the gateway itself
 * unless `ruri` says otherwise: no DNS lookups) to `port` as fast as the socket takes them (or
 * at `rate` per second), for `seconds` or until `maxMessages` were sent. Never answers (no ACK).
 */
export async function udpFlood(o: { from: string; host?: string; port: number; seconds: number; maxMessages?: number; ruri?: string; inFlight?: number; rate?: number }): Promise<FloodResult> {
  const host = o.host ?? '127.0.0.1';
  const sock = await bindUdp(o.from);
  const via = `UDP ${o.from}:${sock.address().port}`;
  const replies: Record<string, number> = {};
  sock.on('message', (b) => {
    // the status code only: this process must spend its time sending
    if (b[0] === 0x53 && b.length > 12) {
      const s = b.toString('latin1', 8, 11);
      if (s !== '100') replies[s] = (replies[s] ?? 0) + 1;
    }
  });
  const max = o.maxMessages ?? Infinity;
  const inFlightMax = o.inFlight ?? 64;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const deadline = t0 + o.seconds * 1000;
  let sent = 0;
  let inFlight = 0;
  const sendOne = (cb?: () => void) => {
    const n = sent++;
    const method = n & 1 ? 'INVITE' : 'OPTIONS';
    const ruri = o.ruri ?? (method === 'INVITE' ? `sip:bob@${host}:${o.port}` : `sip:${host}:${o.port}`);
    sock.send(options(`${host}:${o.port}`, via, `flood-${n}@${o.from}`, `f${n}`, method, ruri), o.port, host, cb);
  };
  if (o.rate) {
    // paced: `rate` per second, sent in 10 ms batches
    const rate = o.rate;
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        const due = Math.min(max, Math.floor(((Date.now() - t0) * rate) / 1000));
        while (sent < due) sendOne();
        if (sent >= max || Date.now() >= deadline) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
  } else {
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (inFlight < inFlightMax && sent < max) {
          if ((sent & 255) === 0 && Date.now() >= deadline) break;
          inFlight++;
          sendOne(() => {
            inFlight--;
            if (inFlight === 0) setImmediate(pump);
          });
        }
        if ((sent >= max || Date.now() >= deadline) && inFlight === 0) resolve();
      };
      pump();
    });
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 500)); // late replies
  sock.close();
  return { sent, replies, seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export interface LegitResult {
  sent: number;
  /** datagrams or messages written, retransmissions included */
  transmissions: number;
  /** requests with a final response */
  answered: number;
  /** answered within 1 s of the first transmission */
  within1s: number;
  /** answered to the first transmission (no retransmission needed) */
  firstTry: number;
  /** final responses by status */
  statuses: Record<string, number>;
  /** ms from first transmission to the final response, answered requests only */
  latenciesMs: number[];
}

interface Pending {
  text: Buffer;
  t0: number;
  tries: number;
  timer?: NodeJS.Timeout;
  done: boolean;
}

/** RFC 3261 Timer E for a non-INVITE over UDP: T1, 2·T1, … capped at T2, until a final response or Timer F. */
function retransmit(p: Pending, send: (b: Buffer) => void, interval: number, giveUpAt: number): void {
  p.timer = setTimeout(() => {
    if (p.done || performance.now() >= giveUpAt) return;
    p.tries++;
    send(p.text);
    retransmit(p, send, Math.min(interval * 2, 4000), giveUpAt);
  }, interval);
}

function tally(pending: Map<string, Pending>, sent: number): LegitResult {
  const r: LegitResult = { sent, transmissions: 0, answered: 0, within1s: 0, firstTry: 0, statuses: {}, latenciesMs: [] };
  for (const p of pending.values()) clearTimeout(p.timer);
  return r;
}

function record(r: LegitResult, p: Pending, status: number): void {
  p.done = true;
  clearTimeout(p.timer);
  const ms = performance.now() - p.t0;
  r.answered++;
  r.latenciesMs.push(ms);
  if (ms <= 1000) r.within1s++;
  if (p.tries === 1) r.firstTry++;
  r.statuses[status] = (r.statuses[status] ?? 0) + 1;
}

/** A well-behaved UDP peer: `rate` OPTIONS per second for `seconds`, retransmitting per Timer E. */
export async function legitUdp(o: { from: string; host?: string; port: number; rate: number; seconds: number; ruri?: string; graceMs?: number }): Promise<LegitResult> {
  const host = o.host ?? '127.0.0.1';
  const sock = await bindUdp(o.from);
  const via = `UDP ${o.from}:${sock.address().port}`;
  const pending = new Map<string, Pending>();
  const total = Math.round(o.rate * o.seconds);
  const r = tally(pending, total);
  sock.on('message', (b) => {
    const m = parseDatagram(b);
    if (m.type !== 'message' || m.msg.kind !== 'response' || m.msg.status < 200) return;
    const p = pending.get(m.msg.callId);
    if (p && !p.done) record(r, p, m.msg.status);
  });
  const send = (b: Buffer) => {
    r.transmissions++;
    sock.send(b, o.port, host);
  };
  const ruri = o.ruri ?? `sip:${host}:${o.port}`;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const callId = `legit-${i}-${process.pid}@${o.from}`;
    const p: Pending = { text: Buffer.from(options(`${host}:${o.port}`, via, callId, `l${i}x${process.pid}`, 'OPTIONS', ruri)), t0: performance.now(), tries: 1, done: false };
    pending.set(callId, p);
    send(p.text);
    retransmit(p, send, 500, p.t0 + 32_000);
  }
  const graceUntil = Date.now() + (o.graceMs ?? 5000);
  while (r.answered < total && Date.now() < graceUntil) await new Promise((res) => setTimeout(res, 50));
  for (const p of pending.values()) clearTimeout(p.timer);
  sock.close();
  return r;
}

/** A partner over one TLS connection (opened before the load): `rate` OPTIONS per second for `seconds`. */
export async function legitTls(o: { from: string; host?: string; port: number; rate: number; seconds: number; cert?: { cert: string; key: string }; ruri?: string; graceMs?: number }): Promise<LegitResult & { connectionLost: boolean }> {
  const host = o.host ?? '127.0.0.1';
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ socket: net.connect({ host, port: o.port, localAddress: o.from }), rejectUnauthorized: false, ...(o.cert ?? {}) });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
  let lost = false;
  socket.on('error', () => {});
  socket.once('close', () => (lost = true));
  const pending = new Map<string, Pending>();
  const total = Math.round(o.rate * o.seconds);
  const r = tally(pending, total);
  const framer = new StreamFramer();
  socket.on('data', (c: Buffer) => {
    for (const ev of framer.push(c)) {
      if (ev.type !== 'message' || ev.msg.kind !== 'response' || ev.msg.status < 200) continue;
      const p = pending.get(ev.msg.callId);
      if (p && !p.done) record(r, p, ev.msg.status);
    }
  });
  const via = `TLS ${o.from}:${socket.localPort}`;
  const ruri = o.ruri ?? `sip:${host}:${o.port};transport=tls`;
  const start = performance.now();
  for (let i = 0; i < total && !lost; i++) {
    const due = start + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const callId = `legit-tls-${i}-${process.pid}@${o.from}`;
    const p: Pending = { text: Buffer.from(options(`${host}:${o.port}`, via, callId, `t${i}x${process.pid}`, 'OPTIONS', ruri)), t0: performance.now(), tries: 1, done: false };
    pending.set(callId, p);
    r.transmissions++;
    socket.write(p.text);
  }
  const graceUntil = Date.now() + (o.graceMs ?? 5000);
  while (r.answered < total && !lost && Date.now() < graceUntil) await new Promise((res) => setTimeout(res, 50));
  socket.destroy();
  return { ...r, connectionLost: lost };
}

export interface HandshakeFloodResult {
  attempted: number;
  /** handshakes completed */
  completed: number;
  /** connections closed or reset before the handshake completed */
  refused: number;
  seconds: number;
}

/**
 * `count` TLS connections from `from`, `concurrency` at a time, each a full handshake (no session
 * reuse) closed right after it completes.
 */
export async function tlsHandshakeFlood(o: { from: string; host?: string; port: number; count: number; concurrency?: number; cert?: { cert: string; key: string } }): Promise<HandshakeFloodResult> {
  const host = o.host ?? '127.0.0.1';
  let started = 0;
  let completed = 0;
  let refused = 0;
  const t0 = Date.now();
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      let settled = false;
      const raw = net.connect({ host, port: o.port, localAddress: o.from });
      raw.on('error', () => {});
      const s = tls.connect({ socket: raw, rejectUnauthorized: false, ...(o.cert ?? {}) });
      const end = (ok: boolean) => {
        if (settled) return;
        settled = true;
        if (ok) completed++;
        else refused++;
        s.destroy();
        resolve();
      };
      s.setTimeout(10_000, () => end(false));
      s.once('secureConnect', () => end(true));
      s.once('error', () => end(false));
      s.once('close', () => end(false));
    });
  const worker = async () => {
    while (started < o.count) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 50 }, worker));
  return { attempted: started, completed, refused, seconds: (Date.now() - t0) / 1000 };
}

/** Latency percentile (ms) of answered requests. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
