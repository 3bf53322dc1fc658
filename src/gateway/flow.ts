// Flows: where a SIP message came from and where its answers go. A stream flow is one TCP or TLS
// connection (framed by src/sip, identity built once at the handshake); a datagram flow is one
// UDP peer behind a listening socket. Responses go back on the flow their request came in on
// (RFC 3261 §18.2.2).
import type { Socket } from 'node:net';
import type { Socket as UdpSocket } from 'node:dgram';
import type { Logger } from 'pino';
import { StreamFramer, startStreamGuard, PONG, type FrameEvent } from '../sip/framing.js';
import type { SipLimits } from '../sip/limits.js';
import type { SipMessage } from '../sip/message.js';
import type { SipError } from '../sip/errors.js';
import type { PeerIdentity } from '../tls/index.js';
import type { WriteGuard } from '../limits/index.js';

export type Transport = 'tls' | 'tcp' | 'udp';

/** A listening socket of the gateway, as written into Via and Record-Route. */
export interface ListenerInfo {
  transport: Transport;
  address: string;
  port: number;
  serverDomain?: string;
  /** host:port advertised in Via/Record-Route */
  hostport: string;
}

export interface Flow {
  readonly id: number;
  readonly transport: Transport;
  readonly reliable: boolean;
  readonly local: { address: string; port: number; domain?: string };
  readonly remote: { address: string; port: number };
  /** TLS only: the peer-identity document (built once per connection) */
  readonly identity?: PeerIdentity;
  /** the listener it arrived on (inbound flows) */
  readonly listener?: ListenerInfo;
  /** writes bytes; throws when the flow is closed */
  send(data: Buffer): void;
  get closed(): boolean;
  /** closes at once, or (`afterWrites`) once what was written is sent (streams) */
  close(opts?: { afterWrites?: boolean }): void;
}

export interface FlowHandler {
  onMessage(flow: Flow, msg: SipMessage): void;
  /** bad input: the flow answers (when it can) and/or closes itself; the handler logs */
  onBadInput(flow: Flow, error: SipError, partial?: SipMessage): void;
  /** a stream flow closed (its transactions can no longer send or receive on it) */
  onFlowClosed?(flow: Flow): void;
}

let nextId = 1;
export const newFlowId = (): number => nextId++;

export interface StreamFlowOptions {
  limits?: Partial<SipLimits>;
  partialMessageTimeoutMs?: number;
  idleTimeoutMs?: number;
  logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** the slow-reader guard of a connection (write-queue limit, send timeout) */
  guardWrites?: (socket: Socket, flow: StreamFlow) => WriteGuard;
}

export class StreamFlow implements Flow {
  readonly id = newFlowId();
  readonly reliable = true;
  /** for the admin API: when it opened, messages framed in and written out */
  readonly openedAt = Date.now();
  messagesIn = 0;
  messagesOut = 0;
  readonly local: Flow['local'];
  readonly remote: Flow['remote'];
  private readonly framer: StreamFramer;
  private stopGuard: () => void = () => {};
  private corked = false;
  private readonly writes: WriteGuard | undefined;

  constructor(
    readonly socket: Socket,
    readonly transport: 'tls' | 'tcp',
    handler: FlowHandler,
    opts: StreamFlowOptions,
    readonly identity?: PeerIdentity,
    localDomain?: string,
    readonly listener?: ListenerInfo,
  ) {
    this.local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0, ...(localDomain ? { domain: localDomain } : {}) };
    this.remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.framer = new StreamFramer({ limits: opts.limits });
    this.writes = opts.guardWrites?.(socket, this);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let events: FrameEvent[];
      try {
        events = this.framer.push(chunk);
      } catch (e) {
        opts.logger.warn({ err: e, flow: this.id }, 'sip: framing failed; closing connection');
        socket.destroy();
        return;
      }
      for (const ev of events) {
        if (socket.destroyed) return;
        if (ev.type === 'message') {
          this.messagesIn++;
          handler.onMessage(this, ev.msg);
        }
        else if (ev.type === 'ping') this.trySend(PONG);
        else if (ev.type === 'error') {
          handler.onBadInput(this, ev.error, ev.partial);
          // the stream cannot be resynchronised: close once the answer (if any) is written
          if (ev.error.fatal) socket.end();
        }
      }
    });
    socket.on('error', (err) => opts.logger.debug({ err: { message: err.message }, flow: this.id }, 'sip: connection error'));
    socket.once('close', () => {
      this.stopGuard();
      this.writes?.stop();
      handler.onFlowClosed?.(this);
    });
    if (opts.partialMessageTimeoutMs || opts.idleTimeoutMs) {
      this.stopGuard = startStreamGuard(
        this.framer,
        { partialMessageTimeoutMs: opts.partialMessageTimeoutMs || undefined, idleTimeoutMs: opts.idleTimeoutMs || undefined },
        (kind) => {
          opts.logger.warn({ flow: this.id, remote: this.remote, kind }, kind === 'partial' ? 'sip: incomplete message pending too long (slowloris); closing connection' : 'sip: idle connection; closing');
          socket.destroy();
        },
      );
    }
  }

  get closed(): boolean {
    return this.socket.destroyed || !this.socket.writable;
  }

  send(data: Buffer): void {
    if (this.closed) throw Object.assign(new Error(`flow ${this.id} is closed`), { code: 'EPIPE' });
    // Messages written in the same tick leave together: one TLS record and one syscall for the
    // batch instead of one per message (uncorked at the end of the tick).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    this.messagesOut++;
    this.socket.write(data);
    this.writes?.wrote(data.length);
  }

  /** @internal the end of a tick's batch */
  flush(): void {
    this.corked = false;
    this.socket.uncork();
    this.writes?.check();
  }

  private trySend(data: Buffer): void {
    try {
      this.send(data);
    } catch {
      // closed meanwhile
    }
  }

  close(opts?: { afterWrites?: boolean }): void {
    if (!opts?.afterWrites || this.socket.destroyed) return void this.socket.destroy();
    if (this.corked) this.flush();
    this.socket.end();
    // a peer that does not read what is left must not keep the connection
    const t = setTimeout(() => this.socket.destroy(), 2000);
    t.unref();
    this.socket.once('close', () => clearTimeout(t));
  }
}

function uncork(flow: StreamFlow): void {
  flow.flush();
}

/** One UDP peer seen through a listening socket. */
export class DatagramFlow implements Flow {
  readonly id = newFlowId();
  readonly transport = 'udp' as const;
  readonly reliable = false;
  readonly local: Flow['local'];
  constructor(
    private readonly socket: UdpSocket,
    readonly remote: { address: string; port: number },
    readonly listener: ListenerInfo,
  ) {
    this.local = { address: listener.address, port: listener.port };
  }
  get closed(): boolean {
    return false;
  }
  send(data: Buffer): void {
    this.socket.send(data, this.remote.port, this.remote.address);
  }
  close(): void {}
}
