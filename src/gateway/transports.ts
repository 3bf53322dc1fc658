// Listening sockets (TLS via src/tls, TCP, UDP) and outbound connections, reused per
// (peer, client domain, expected domain). Messages from every flow go to one FlowHandler, attached
// with deliverTo(); the proxy sees this class only as its Egress.
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { createTlsServer, connectTls, type TlsContextRegistry } from '../tls/index.js';
import { parseDatagram } from '../sip/framing.js';
import type { SipLimits } from '../sip/limits.js';
import { DatagramFlow, StreamFlow, type Flow, type FlowHandler, type ListenerInfo, type Transport } from './flow.js';
import type { ListenConfig } from './config.js';
import type { Egress } from './egress.js';
import type { Target } from './nexthop.js';
import { FairQueue, Verdict } from '../limits/index.js';
import type { Border } from './border.js';
import { UdpFlowSockets, bindSharedUdp } from './udp-flows.js';

export interface TransportsOptions {
  registry?: TlsContextRegistry;
  /** where messages go; or attach it later with deliverTo() (before listen/connect) */
  handler?: FlowHandler;
  logger: Logger;
  limits?: Partial<SipLimits>;
  partialMessageTimeoutMs?: number;
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** observers (metrics) */
  events?: TransportEvents;
  /** per-peer limits and the slow-reader guard (border.ts) */
  border?: Border;
}

export interface TransportEvents {
  /** a TLS handshake: `result` is ok, the peer's verify_error, or the failed handshake's error code */
  handshake?(side: 'inbound' | 'outbound', domain: string, result: string): void;
}

interface Datagram {
  sock: dgram.Socket;
  info: ListenerInfo;
  buf: Buffer;
  rinfo: dgram.RemoteInfo;
}

interface Bound {
  info: ListenerInfo;
  close: () => Promise<void>;
  udp?: dgram.Socket;
}

export class Transports implements Egress {
  readonly listeners: ListenerInfo[] = [];
  private sink: FlowHandler | undefined;
  private readonly bound: Bound[] = [];
  private readonly outbound = new Map<string, Promise<Flow>>();
  /** established pooled flows by the request's (unresolved) selection, for the synchronous path */
  private readonly ready = new Map<string, Flow>();
  /** the pool key of each pooled outbound flow (retire()) */
  private readonly pooledAs = new WeakMap<Flow, string>();
  private readonly streams = new Set<StreamFlow>();
  private readonly udpFlows = new Map<string, DatagramFlow>();
  /** admitted datagrams, processed fairly across sources between reads (border protection) */
  private readonly udpQueue: FairQueue<Datagram> | undefined;

  constructor(private readonly opts: TransportsOptions) {
    this.sink = opts.handler;
    const border = opts.border;
    if (border?.queuesDatagrams) this.udpQueue = new FairQueue<Datagram>((d) => this.deliverDatagram(d.sock, d.info, d.buf, d.rinfo, Verdict.Pass), undefined, () => border.limiter.queueDropped());
  }

  private handshake(side: 'inbound' | 'outbound', domain: string, result: string): void {
    try {
      this.opts.events?.handshake?.(side, domain, result);
    } catch {
      // an observer never breaks a connection
    }
  }

  /** Open TLS/TCP connections, inbound and outbound (admin API, metrics). */
  get connections(): StreamFlow[] {
    return [...this.streams];
  }

  /**
   * Takes an outbound connection out of the pool: new requests open a new connection (verified
   * anew); what is in flight on this one goes on (re-verification marked its peer unverified).
   */
  retire(flow: Flow): void {
    for (const [k, f] of this.ready) if (f === flow) this.ready.delete(k);
    const key = this.pooledAs.get(flow);
    if (key !== undefined) {
      this.pooledAs.delete(flow);
      void this.outbound.get(key)?.then((f) => {
        if (f === flow) this.outbound.delete(key);
      }, () => {});
    }
  }

  /** Closes the connection with this flow id; false when there is none. */
  dropConnection(id: number): boolean {
    for (const f of this.streams) {
      if (f.id === id) {
        this.retire(f); // out of the pool at once, not at its 'close' event
        f.close();
        return true;
      }
    }
    return false;
  }

  /** Limits and timeouts for connections and datagrams from now on (a config reload). */
  setLimits(o: Pick<TransportsOptions, 'limits' | 'partialMessageTimeoutMs' | 'idleTimeoutMs' | 'connectTimeoutMs'>): void {
    Object.assign(this.opts, o);
  }

  /** Closes one listening socket (a config reload that removed it); its open connections stay. */
  async unlisten(info: ListenerInfo): Promise<void> {
    const i = this.bound.findIndex((b) => b.info === info);
    if (i < 0) return;
    const [b] = this.bound.splice(i, 1);
    this.listeners.splice(this.listeners.indexOf(info), 1);
    await b!.close();
  }

  /** Every message and every bad input from now on goes to `handler`. */
  deliverTo(handler: FlowHandler): void {
    this.sink = handler;
  }

  private get handler(): FlowHandler {
    if (!this.sink) throw new Error('transports: no FlowHandler attached (deliverTo)');
    return this.sink;
  }

  private streamOpts() {
    const border = this.opts.border;
    return {
      limits: this.opts.limits,
      partialMessageTimeoutMs: this.opts.partialMessageTimeoutMs,
      idleTimeoutMs: this.opts.idleTimeoutMs,
      logger: this.opts.logger,
      guardWrites: border && ((socket: net.Socket, flow: StreamFlow) => border.writeGuard(socket, () => ({ flow: flow.id, transport: flow.transport, remote: flow.remote }))),
    };
  }

  private track(flow: StreamFlow): StreamFlow {
    this.streams.add(flow);
    flow.socket.once('close', () => this.streams.delete(flow));
    return flow;
  }

  /** Binds one listening socket; port 0 picks a free one (the info carries the real port). */
  async listen(l: ListenConfig): Promise<ListenerInfo> {
    const address = l.address ?? '127.0.0.1';
    const mkInfo = (port: number): ListenerInfo => {
      const host = address.includes(':') ? `[${address}]` : address;
      return { transport: l.transport, address, port, serverDomain: l.server_domain, hostport: l.advertise ?? `${host}:${port}` };
    };
    let bound: Bound;
    if (l.transport === 'udp') {
      const type = address.includes(':') ? 'udp6' : 'udp4';
      const sizes = { recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 };
      // with border protection, each source gets a kernel queue of its own (udp-flows.ts)
      const perSource = this.udpQueue !== undefined;
      let sock: dgram.Socket;
      if (perSource) sock = await bindSharedUdp(type, l.port, address, sizes);
      else {
        sock = dgram.createSocket({ type, ...sizes });
        await new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.bind(l.port, address, () => {
            sock.off('error', reject);
            resolve();
          });
        });
      }
      const info = mkInfo(sock.address().port);
      const flows = perSource ? new UdpFlowSockets({ address, port: info.port, type }, (buf, rinfo) => this.onDatagram(sock, info, buf, rinfo)) : undefined;
      sock.on('error', (err) => this.opts.logger.warn({ err: { message: err.message } }, 'udp: socket error'));
      sock.on('message', (buf, rinfo) => this.onDatagram(sock, info, buf, rinfo, flows));
      bound = {
        info,
        udp: sock,
        close: () => {
          flows?.close();
          return new Promise((r) => sock.close(() => r()));
        },
      };
    } else {
      let server: net.Server | TlsServer;
      let infoRef: ListenerInfo | undefined;
      if (l.transport === 'tls') {
        if (!this.opts.registry || !l.server_domain) throw new Error('a TLS listener needs a server domain');
        server = createTlsServer({
          registry: this.opts.registry,
          domain: l.server_domain,
          logger: this.opts.logger,
          admit: this.opts.border && ((raw) => this.opts.border!.admitConnection(raw, true)),
          onConnection: (socket, identity, domain) => {
            this.handshake('inbound', domain.name, identity.verified ? 'ok' : (identity.verify_error ?? 'unverified'));
            this.track(new StreamFlow(socket, 'tls', this.handler, this.streamOpts(), identity, domain.name, infoRef));
          },
          onRefused: (identity, domain) => this.handshake('inbound', domain.name, identity.verify_error ?? 'refused'),
          onHandshakeError: (err) => this.handshake('inbound', l.server_domain!, err.code ?? 'error'),
        });
      } else {
        server = net.createServer((socket) => {
          socket.on('error', () => {});
          if (this.opts.border && !this.opts.border.admitConnection(socket, false)) return;
          this.track(new StreamFlow(socket, 'tcp', this.handler, this.streamOpts(), undefined, undefined, infoRef));
        });
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      infoRef = mkInfo((server.address() as net.AddressInfo).port);
      server.on('error', (err) => this.opts.logger.error({ err: { message: err.message } }, 'listener error'));
      const srv = server;
      bound = { info: infoRef, close: () => new Promise((r) => srv.close(() => r())) };
    }
    this.bound.push(bound);
    this.listeners.push(bound.info);
    return bound.info;
  }

  /** `flows`: set for datagrams read from the listening socket (not from a source's own socket). */
  private onDatagram(sock: dgram.Socket, info: ListenerInfo, buf: Buffer, rinfo: dgram.RemoteInfo, flows?: UdpFlowSockets): void {
    // per-peer limits before any parsing: a flood costs a table lookup per datagram
    const verdict = this.opts.border ? this.opts.border.screenDatagram(buf, rinfo.address, rinfo.port) : Verdict.Pass;
    if (verdict === Verdict.Drop) return;
    if (verdict === Verdict.Pass && this.udpQueue) {
      flows?.seen(rinfo.address, rinfo.port);
      this.udpQueue.push(rinfo.address, { sock, info, buf, rinfo });
      return;
    }
    this.deliverDatagram(sock, info, buf, rinfo, verdict);
  }

  private deliverDatagram(sock: dgram.Socket, info: ListenerInfo, buf: Buffer, rinfo: dgram.RemoteInfo, verdict: Verdict): void {
    const key = `${info.port}|${rinfo.address}|${rinfo.port}`;
    let flow = this.udpFlows.get(key);
    if (!flow) {
      if (this.udpFlows.size > 10_000) this.udpFlows.clear(); // bounded: flows are cheap to recreate
      flow = new DatagramFlow(sock, { address: rinfo.address, port: rinfo.port }, info);
      this.udpFlows.set(key, flow);
    }
    const r = parseDatagram(buf, { limits: this.opts.limits });
    if (r.type === 'message') {
      if (verdict === Verdict.Pass) this.handler.onMessage(flow, r.msg);
      else this.opts.border!.refuse(flow, r.msg, verdict);
    } else if (r.type === 'error') this.handler.onBadInput(flow, r.error, r.partial);
  }

  /** The listener to advertise on a leg: same transport, TLS preferring the server domain named like the client domain. */
  listenerFor(transport: Transport, clientDomain?: string): ListenerInfo | undefined {
    const same = this.listeners.filter((l) => l.transport === transport);
    if (transport === 'tls' && clientDomain) {
      const named = same.find((l) => l.serverDomain === clientDomain);
      if (named) return named;
    }
    return same[0];
  }

  /**
   * The pooled stream flow for `target` if it is already established (no promise, no lookup):
   * the per-message fast path. undefined → use connect().
   */
  connectedFlow(target: Target, clientDomain?: string): Flow | undefined {
    if (target.transport === 'udp') return undefined;
    const f = this.ready.get(readyKey(target, clientDomain));
    if (f && !f.closed) return f;
    return undefined;
  }

  /**
   * A flow to `target`: a pooled connection for TLS/TCP (one per peer, client domain and
   * expected domain), the first UDP listener's socket for UDP.
   */
  connect(target: Target, clientDomain?: string): Promise<Flow> {
    const requested = clientDomain;
    if (target.transport === 'udp') {
      const b = this.bound.find((x) => x.udp);
      if (!b) return Promise.reject(Object.assign(new Error('no UDP listener to send from'), { code: 'ENOUDP' }));
      return Promise.resolve(new DatagramFlow(b.udp!, { address: target.host, port: target.port }, b.info));
    }
    if (target.transport === 'tls' && this.opts.registry) {
      // the pool key names the profile actually used (by name, else by destination, else default)
      try {
        clientDomain = this.opts.registry.selectClientDomain({ name: clientDomain, host: target.host, port: target.port }).name;
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const key = `${target.transport}|${target.host}|${target.port}|${clientDomain ?? ''}|${target.expectedDomain ?? ''}`;
    const fast = readyKey(target, requested);
    const existing = this.outbound.get(key);
    if (existing) {
      return existing.then((f) => {
        if (!f.closed) {
          this.remember(fast, f);
          return f;
        }
        // closing (ended or destroyed, its 'close' event still to come): new requests go on a
        // new connection rather than fail on this one
        if (this.outbound.get(key) === existing) this.outbound.delete(key);
        this.pooledAs.delete(f);
        return this.connect(target, requested);
      });
    }
    const p = this.open(target, clientDomain).then(
      (flow) => {
        (flow as StreamFlow).socket.once('close', () => {
          if (this.outbound.get(key) === p) this.outbound.delete(key);
        });
        this.pooledAs.set(flow, key);
        this.remember(fast, flow);
        return flow;
      },
      (err) => {
        if (this.outbound.get(key) === p) this.outbound.delete(key);
        throw err;
      },
    );
    this.outbound.set(key, p);
    return p;
  }

  private remember(key: string, flow: Flow): void {
    if (flow.closed || this.ready.get(key) === flow) return;
    this.ready.set(key, flow);
    (flow as StreamFlow).socket.once('close', () => {
      if (this.ready.get(key) === flow) this.ready.delete(key);
    });
  }

  private async open(target: Target, clientDomain?: string): Promise<Flow> {
    if (target.transport === 'tls') {
      if (!this.opts.registry) throw new Error('no TLS client domains configured');
      let c;
      try {
        c = await connectTls({
          registry: this.opts.registry,
          host: target.host,
          port: target.port,
          clientDomain,
          expectedDomain: target.expectedDomain,
          timeoutMs: this.opts.connectTimeoutMs,
        });
      } catch (e) {
        this.handshake('outbound', clientDomain ?? 'default', (e as { code?: string }).code ?? 'error');
        throw e;
      }
      this.handshake('outbound', c.domain.name, c.identity.verified ? 'ok' : (c.identity.verify_error ?? 'unverified'));
      this.opts.logger.info(
        { remote: `${target.host}:${target.port}`, client_domain: c.domain.name, expected_domain: target.expectedDomain, peer: c.identity.subject?.string },
        'tls: outbound connection up',
      );
      return this.track(new StreamFlow(c.socket as TLSSocket, 'tls', this.handler, this.streamOpts(), c.identity, c.domain.name));
    }
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: target.host, port: target.port });
      const t = setTimeout(() => {
        s.destroy();
        reject(Object.assign(new Error('TCP connect timed out'), { code: 'ETIMEDOUT' }));
      }, this.opts.connectTimeoutMs ?? 5000);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    return this.track(new StreamFlow(socket, 'tcp', this.handler, this.streamOpts()));
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async close(): Promise<void> {
    this.udpQueue?.clear();
    const closing = this.bound.map((b) => b.close());
    for (const f of [...this.streams]) f.close();
    await Promise.all(closing);
    this.outbound.clear();
    this.ready.clear();
  }
}

/** The fast-path key: the selection as the proxy asks for it (client domain as requested, not resolved). */
function readyKey(target: Target, clientDomain: string | undefined): string {
  return `${target.transport}|${target.host}|${target.port}|${clientDomain ?? ''}|${target.expectedDomain ?? ''}`;
}
