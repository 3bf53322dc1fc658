// The gateway's border protection (src/limits) at its three places:
//  - datagrams, before they are parsed (screenDatagram): a request over its source address's rate
//    is answered 503 (parsed only for that) or, past the address's 503 budget, dropped;
//  - stream connections, when accepted (admitConnection): new connections and TLS handshakes per
//    second and open connections per source address;
//  - messages, before the proxy and its policy see them (BorderFront, a FlowHandler in front of
//    the proxy): every request is counted for input.connection.stats; on streams, requests over
//    the address's or the verified identity's rate get 503, past the 503 budget the connection
//    is closed.
// Responses are never limited (they belong to transactions the gateway started), nor is anything
// from the gateway's own sockets.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { PeerLimiter, RequestStats, Verdict, WriteGuard, type PeerLimits, type WriteLimits } from '../limits/index.js';
import { buildResponse, generateTag } from '../sip/build.js';
import type { SipMessage } from '../sip/message.js';
import type { SipError } from '../sip/errors.js';
import type { Flow, FlowHandler } from './flow.js';

export interface BorderOptions {
  limits: PeerLimits;
  write: WriteLimits;
  logger: Logger;
  /** the gateway's own listening sockets: never limited */
  isOwnSocket?: (address: string, port: number) => boolean;
}

export class Border {
  readonly limiter: PeerLimiter;
  readonly stats = new RequestStats();
  private readonly toTag = generateTag();
  private identityKey: 'subject' | 'fingerprint';

  constructor(private opts: BorderOptions) {
    this.limiter = new PeerLimiter(opts.limits, { logger: opts.logger, isOwnSocket: opts.isOwnSocket });
    this.identityKey = opts.limits.identityKey;
  }

  /**
   * A reload's limits: per-peer limits for the next requests and connections (unchanged ones keep
   * every peer's budget, see PeerLimiter.reconfigure), write limits for connections opened from now.
   */
  setLimits(limits: PeerLimits, write: WriteLimits): void {
    this.limiter.reconfigure(limits);
    this.identityKey = limits.identityKey;
    this.opts = { ...this.opts, limits, write };
  }

  /** Admitted datagrams are queued per source and processed fairly between reads (fair-queue.ts). */
  // (read once, when the transports are built: a reload neither adds nor removes the queue)
  get queuesDatagrams(): boolean {
    return this.opts.limits.enabled;
  }

  /** The FlowHandler the transports deliver to: counts and limits, then hands over to `next`. */
  front(next: FlowHandler): FlowHandler {
    return new BorderFront(this, next);
  }

  /**
   * A datagram, before parsing: Pass, Reject (parse it and call refuse()) or Drop. Responses
   * ("SIP/…") and keep-alives pass uncounted.
   */
  screenDatagram(buf: Buffer, address: string, port: number): Verdict {
    const c = buf[0];
    if (c === 0x53 /* S */ && buf[1] === 0x49 && buf[2] === 0x50 && buf[3] === 0x2f) return Verdict.Pass;
    if (c === 0x0d || c === 0x0a || c === undefined) return Verdict.Pass;
    return this.limiter.request(address, port, false);
  }

  /** The verified identity a flow's requests are counted and limited under. */
  identityOf(flow: Flow): string | undefined {
    const id = flow.identity;
    if (!id?.verified) return undefined;
    return this.identityKey === 'fingerprint' ? id.fingerprint?.sha256 : id.subject?.string;
  }

  /**
   * A request refused by a limit: 503 with Retry-After when the verdict is Reject (an ACK, which
   * cannot be answered, is discarded), else dropped (UDP) or its connection closed (streams).
   */
  refuse(flow: Flow, msg: SipMessage, verdict: Verdict, byIdentity?: string): void {
    if (msg.kind !== 'request') return;
    this.stats.count(flow, this.identityOf(flow));
    if (verdict === Verdict.Reject && msg.method !== 'ACK') {
      const retry = this.limiter.retryAfter(byIdentity ?? flow.remote.address, byIdentity !== undefined);
      try {
        flow.send(buildResponse(msg, 503, 'Service Unavailable', { toTag: this.toTag, headers: [['Retry-After', String(retry)]] }).toBuffer());
      } catch {
        // closed meanwhile, or no usable Via: nothing to answer on
      }
      return;
    }
    if (verdict === Verdict.Drop && flow.reliable) {
      this.opts.logger.warn({ flow: flow.id, transport: flow.transport, remote: flow.remote, identity: byIdentity }, 'limit: peer over its request limit and 503 budget; closing connection');
      flow.close({ afterWrites: true }); // the 503s written before it still go out
    }
  }

  /**
   * A stream connection just accepted (before any TLS): true to keep it. Refused ones are
   * destroyed here; admitted ones count as open until they close.
   */
  admitConnection(socket: Socket, tls: boolean): boolean {
    const address = socket.remoteAddress;
    if (address === undefined) {
      socket.destroy();
      return false;
    }
    const v = this.limiter.connection(address, socket.remotePort ?? 0, tls);
    if (v !== 'ok') {
      socket.on('error', () => {});
      socket.destroy();
      return false;
    }
    socket.once('close', () => this.limiter.connectionClosed(address));
    return true;
  }

  /** The slow-reader guard of one connection (closes it with a log line when its peer stops reading). */
  writeGuard(socket: Socket, describe: () => Record<string, unknown>): WriteGuard {
    return new WriteGuard(socket, this.opts.write, (reason, queued) => {
      this.limiter.slowReaderClosed();
      this.opts.logger.warn({ ...describe(), reason, queued_bytes: queued, max_queue_bytes: this.opts.write.maxQueueBytes, send_timeout_ms: this.opts.write.sendTimeoutMs }, 'sip: peer is not reading; closing connection');
      socket.destroy();
    });
  }

  close(): void {
    this.limiter.close();
    this.stats.close();
  }
}

class BorderFront implements FlowHandler {
  constructor(
    private readonly border: Border,
    private readonly next: FlowHandler,
  ) {}

  onMessage(flow: Flow, msg: SipMessage): void {
    // the rest of a batch read with a request that closed its connection
    if (flow.closed) return;
    if (msg.kind === 'request') {
      const b = this.border;
      const identity = b.identityOf(flow);
      if (flow.reliable) {
        // UDP requests were screened before parsing (Transports); streams are checked here
        let v = b.limiter.request(flow.remote.address, flow.remote.port, true);
        let by: string | undefined;
        if (v === Verdict.Pass && identity !== undefined) {
          v = b.limiter.identityRequest(identity, flow.remote.address, flow.remote.port, true);
          if (v !== Verdict.Pass) by = identity;
        }
        if (v !== Verdict.Pass) return b.refuse(flow, msg, v, by);
      }
      b.stats.count(flow, identity);
    }
    this.next.onMessage(flow, msg);
  }

  onBadInput(flow: Flow, error: SipError, partial?: SipMessage): void {
    this.next.onBadInput(flow, error, partial);
  }

  onFlowClosed(flow: Flow): void {
    this.next.onFlowClosed?.(flow);
  }
}
