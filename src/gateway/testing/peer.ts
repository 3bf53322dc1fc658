// Test peers for the gateway tests: real TLS/TCP/UDP endpoints on 127.0.0.1 that speak SIP through
// src/sip's framer, record every message they receive and let the test answer. Test-only code.
import * as tls from 'node:tls';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { StreamFramer, parseDatagram } from '../../sip/framing.js';
import { parseMessage } from '../../sip/parser.js';
import type { SipMessage } from '../../sip/message.js';

type Waiter = { pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** Collects messages and lets a test wait for one matching a predicate. */
export class Inbox {
  readonly messages: SipMessage[] = [];
  private waiters: Waiter[] = [];
  push(m: SipMessage): void {
    this.messages.push(m);
    for (const w of [...this.waiters]) {
      if (w.pred(m)) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      }
    }
  }
  /** Resolves with the first message (already received or future) matching pred. The timeout only guards against hangs. */
  wait(pred: (m: SipMessage) => boolean, what = 'message', timeoutMs = 15_000): Promise<SipMessage> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.timer !== timer);
        reject(new Error(`no ${what} arrived`));
      }, timeoutMs);
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }
}

export const isReq = (method: string) => (m: SipMessage) => m.kind === 'request' && m.method === method;
export const isResp = (status: number, method?: string) => (m: SipMessage) => m.kind === 'response' && m.status === status && (!method || m.cseq.method === method);

/** One stream connection (either side) carrying SIP. */
export class StreamPeer {
  readonly inbox = new Inbox();
  readonly closed: Promise<void>;
  constructor(readonly socket: net.Socket | tls.TLSSocket) {
    const framer = new StreamFramer();
    socket.on('data', (c: Buffer) => {
      for (const ev of framer.push(c)) if (ev.type === 'message') this.inbox.push(ev.msg);
    });
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }
  send(text: string | Buffer | SipMessage): void {
    this.socket.write(typeof text === 'string' ? Buffer.from(text) : Buffer.isBuffer(text) ? text : text.toBuffer());
  }
}

/**
 * A TLS client with a certificate; resolves after the handshake (or rejects when refused).
 * `from`: the local address (any of 127.0.0.0/8).
 */
export function tlsClient(port: number, cert?: { cert: string; key: string }, ca?: string, from?: string): Promise<StreamPeer> {
  return new Promise((resolve, reject) => {
    const socket = from ? net.connect({ host: '127.0.0.1', port, localAddress: from }) : undefined;
    socket?.on('error', reject);
    const s = tls.connect({ host: '127.0.0.1', port, socket, cert: cert?.cert, key: cert?.key, ca: ca ? [ca] : [], rejectUnauthorized: false });
    s.once('secureConnect', () => resolve(new StreamPeer(s)));
    s.once('error', reject);
  });
}

/** A TLS server (a far proxy) that records its connections and the client certificate each presented. */
export class TlsPeerServer {
  readonly peers: StreamPeer[] = [];
  readonly inbox = new Inbox();
  readonly clientSubjects: string[] = [];
  server: tls.Server;
  port = 0;
  constructor(opts: { cert: string; key: string; ca: string }) {
    this.server = tls.createServer({ cert: opts.cert, key: opts.key, ca: [opts.ca], requestCert: true, rejectUnauthorized: true }, (s) => {
      const cert = s.getPeerCertificate();
      this.clientSubjects.push(cert?.subject ? `CN=${cert.subject.CN},O=${cert.subject.O}` : '');
      const p = new StreamPeer(s);
      this.peers.push(p);
      s.on('data', () => {});
      const orig = p.inbox.push.bind(p.inbox);
      p.inbox.push = (m) => {
        orig(m);
        this.inbox.push(m);
      };
    });
    this.server.on('tlsClientError', () => {});
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }
  /** The connection a message arrived on. */
  peerOf(m: SipMessage): StreamPeer {
    const p = this.peers.find((x) => x.inbox.messages.includes(m));
    if (!p) throw new Error('message not from this server');
    return p;
  }
  close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

export class UdpPeer {
  readonly inbox = new Inbox();
  readonly sock = dgram.createSocket('udp4');
  port = 0;
  /** `address`: any of 127.0.0.0/8, to be another peer than 127.0.0.1 */
  async bind(address = '127.0.0.1'): Promise<number> {
    await new Promise<void>((r) => this.sock.bind(0, address, () => r()));
    this.port = this.sock.address().port;
    this.sock.on('message', (b) => {
      const r = parseDatagram(b);
      if (r.type === 'message') this.inbox.push(r.msg);
    });
    return this.port;
  }
  send(text: string | Buffer, port: number): void {
    this.sock.send(typeof text === 'string' ? Buffer.from(text) : text, port, '127.0.0.1');
  }
  close(): void {
    this.sock.close();
  }
}

/** Builds a SIP message from lines (CRLF-joined, Content-Length fixed up). */
export function sip(lines: string[], body = ''): SipMessage {
  const text = lines.join('\r\n') + `\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` + body;
  return parseMessage(Buffer.from(text));
}

/** A response to `req` written by a far UA (copies Via, Record-Route, From, To(+tag), Call-ID, CSeq). */
export function answer(req: SipMessage, status: number, reason: string, opts: { toTag?: string; contact?: string } = {}): SipMessage {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const h of req.headers) {
    if (h.lname === 'via' || h.lname === 'record-route' || h.lname === 'from' || h.lname === 'call-id' || h.lname === 'cseq') lines.push(`${h.name}: ${h.value}`);
    if (h.lname === 'to') lines.push(`To: ${h.value}${opts.toTag && !/;tag=/.test(h.value) ? `;tag=${opts.toTag}` : ''}`);
  }
  if (opts.contact) lines.push(`Contact: ${opts.contact}`);
  return sip(lines);
}
