// RFC 3261 §17 transactions (with the RFC 6026 "Accepted" state for 2xx to INVITE), kept
// transport-agnostic: each transaction gets a send callback and a `reliable` flag; reliable
// transports disable the retransmission timers (A, E, G) and zero the wait timers (D, I, J, K).
import { SipMessage } from './message.js';
import { buildAckForNon2xx, buildResponse } from './build.js';
import { isRfc3261Branch } from './via.js';

export interface TimerConfig {
  /** RTT estimate, default 500 ms */
  T1: number;
  /** maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s */
  T2: number;
  /** maximum time a message stays in the network, default 5 s */
  T4: number;
  /** Timer D on unreliable transports (>= 32 s), default 32 s */
  D: number;
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = Object.freeze({ T1: 500, T2: 4000, T4: 5000, D: 32000 });

export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const defaultClock: Clock = {
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    (h as { unref?: () => void }).unref?.();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Where a transaction sends its messages (one per transaction: the connection or the UDP peer). */
export interface TransportHandle {
  /** writes the bytes; throw (or call the transaction's transportError) when it cannot */
  send(data: Buffer, msg: SipMessage): void;
  /** TCP/TLS/SCTP: true (no retransmissions) */
  reliable: boolean;
}

export type ClientState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
export type ServerState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';
export type TerminationCause = 'normal' | 'timeout' | 'transport-error' | 'shutdown';

export interface ClientHandlers {
  /** every response the TU must see (provisional, the first final, 2xx retransmissions) */
  onResponse(response: SipMessage, tx: ClientTransaction): void;
  /** Timer B/F fired: the TU acts as if a 408 was received */
  onTimeout?(tx: ClientTransaction): void;
  onTransportError?(tx: ClientTransaction, error: unknown): void;
  onTerminated?(tx: ClientTransaction, cause: TerminationCause): void;
}

export interface ServerHandlers {
  /** Timer H fired without an ACK, or the transport failed while sending a response */
  onTimeout?(tx: ServerTransaction): void;
  onTransportError?(tx: ServerTransaction, error: unknown): void;
  onTerminated?(tx: ServerTransaction, cause: TerminationCause): void;
}

export interface TransactionLayerOptions {
  timers?: Partial<TimerConfig>;
  clock?: Clock;
  /**
   * 100 Trying for INVITE server transactions: 'immediate' (default, what a proxy does,
   * RFC 3261 §16.2), a delay in ms after which it is sent unless the TU answered, or 'never'.
   */
  trying?: 'immediate' | 'never' | number;
}

/** Server transaction key (RFC 3261 §17.2.3, with the RFC 2543 fallback). ACK and CANCEL map to their INVITE by `asMethod`. */
export function serverKey(req: SipMessage, asMethod?: string): string {
  const top = req.via[0];
  const method = asMethod ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  if (top && isRfc3261Branch(top.branch)) {
    return `3261|${top.branch}|${top.host}:${top.port ?? ''}|${method}`;
  }
  // RFC 2543 (§17.2.3 last paragraphs): Request-URI, From tag, Call-ID, CSeq number, top Via
  // (the To tag is left out so that the ACK, which carries our tag, finds its INVITE).
  const via = top ? `${top.transport} ${top.host}:${top.port ?? ''};${top.branch ?? ''}` : '';
  return `2543|${req.requestUri}|${req.from.params['tag'] ?? ''}|${req.callId}|${req.cseq.seq}|${via}|${method}`;
}

/**
 * A string of its own, for a key that lives as long as its transaction (32 s in the Accepted
 * state): one built from slices of a message's text would keep that whole text alive.
 */
function flat(s: string): string {
  return (' ' + s).slice(1);
}

/** Client transaction key (RFC 3261 §17.1.3): top Via branch + CSeq method. */
export function clientKey(branch: string, cseqMethod: string): string {
  return `${branch}|${cseqMethod}`;
}

abstract class Transaction {
  protected timers = new Map<string, unknown>();
  protected readonly t: TimerConfig;
  private req: SipMessage | null;
  constructor(
    readonly layer: TransactionLayer,
    readonly key: string,
    request: SipMessage,
    readonly transport: TransportHandle,
  ) {
    this.t = layer.timers;
    this.req = request;
  }

  /** The request that created the transaction; gone once released (Accepted state). */
  get request(): SipMessage {
    if (!this.req) throw new Error(`transaction ${this.key} released its messages (${this.state})`);
    return this.req;
  }

  abstract state: string;

  /**
   * Drops the messages the transaction no longer needs. In the RFC 6026 Accepted state a
   * transaction only matches retransmissions for 64*T1 (32 s): a call's parsed INVITE, responses
   * and encodings would otherwise stay on the heap that long, the gateway's main memory cost.
   */
  protected releaseMessages(): void {
    this.req = null;
  }

  protected startTimer(name: string, ms: number, fn: () => void): void {
    this.stopTimer(name);
    this.timers.set(
      name,
      this.layer.clock.setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  protected stopTimer(name: string): void {
    const h = this.timers.get(name);
    if (h !== undefined) {
      this.layer.clock.clearTimeout(h);
      this.timers.delete(name);
    }
  }

  protected stopAllTimers(): void {
    for (const name of [...this.timers.keys()]) this.stopTimer(name);
  }

  /** names of running timers (diagnostics and tests) */
  get runningTimers(): string[] {
    return [...this.timers.keys()].sort();
  }

  protected write(data: Buffer, msg: SipMessage): boolean {
    try {
      this.transport.send(data, msg);
      return true;
    } catch (e) {
      this.transportError(e);
      return false;
    }
  }

  abstract transportError(error: unknown): void;
}

export class ClientTransaction extends Transaction {
  state: ClientState;
  readonly isInvite: boolean;
  /** the last final response received */
  finalResponse: SipMessage | null = null;
  private bytes: Buffer | null;
  private ackBytes: Buffer | null = null;
  private ack: SipMessage | null = null;
  private interval: number;

  constructor(layer: TransactionLayer, key: string, request: SipMessage, transport: TransportHandle, private readonly handlers: ClientHandlers) {
    super(layer, key, request, transport);
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'calling' : 'trying';
    this.bytes = request.toBuffer();
    this.interval = this.t.T1;
  }

  /** Sends the request and starts the timers (called by TransactionLayer.sendRequest). */
  start(): void {
    if (!this.write(this.bytes!, this.request)) return;
    const t64 = 64 * this.t.T1;
    if (this.isInvite) {
      if (!this.transport.reliable) this.startTimer('A', this.interval, () => this.retransmit('A'));
      this.startTimer('B', t64, () => this.timeout());
    } else {
      if (!this.transport.reliable) this.startTimer('E', this.interval, () => this.retransmit('E'));
      this.startTimer('F', t64, () => this.timeout());
    }
  }

  private retransmit(timer: 'A' | 'E'): void {
    if (this.state === 'terminated' || !this.bytes) return;
    if (!this.write(this.bytes, this.request)) return;
    if (timer === 'A') this.interval *= 2;
    else this.interval = this.state === 'proceeding' ? this.t.T2 : Math.min(this.interval * 2, this.t.T2);
    this.startTimer(timer, this.interval, () => this.retransmit(timer));
  }

  private timeout(): void {
    if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding') return;
    this.handlers.onTimeout?.(this);
    this.terminate('timeout');
  }

  /** Feeds a response matched to this transaction. */
  receive(resp: SipMessage): void {
    const s = resp.status;
    if (this.isInvite) {
      switch (this.state) {
        case 'calling':
        case 'proceeding':
          if (s < 200) {
            this.state = 'proceeding';
            this.stopTimer('A');
            this.stopTimer('B');
            this.handlers.onResponse(resp, this);
          } else if (s < 300) {
            this.stopAllTimers();
            this.state = 'accepted';
            this.startTimer('M', 64 * this.t.T1, () => this.terminate('normal'));
            this.handlers.onResponse(resp, this);
            // only 2xx retransmissions are matched from here on (by key)
            this.bytes = null;
            this.releaseMessages();
          } else {
            this.stopAllTimers();
            this.state = 'completed';
            this.finalResponse = resp;
            this.sendAck(resp);
            this.startTimer('D', this.transport.reliable ? 0 : this.t.D, () => this.terminate('normal'));
            this.handlers.onResponse(resp, this);
          }
          return;
        case 'completed':
          if (s >= 300) this.sendAck(resp); // retransmitted final: ACK again, absorb
          return;
        case 'accepted':
          if (s >= 200 && s < 300) this.handlers.onResponse(resp, this); // 2xx retransmissions go to the TU
          return;
        default:
          return;
      }
    }
    switch (this.state) {
      case 'trying':
      case 'proceeding':
        if (s < 200) {
          this.state = 'proceeding';
          this.handlers.onResponse(resp, this);
        } else {
          this.stopAllTimers();
          this.state = 'completed';
          this.finalResponse = resp;
          this.startTimer('K', this.transport.reliable ? 0 : this.t.T4, () => this.terminate('normal'));
          this.handlers.onResponse(resp, this);
        }
        return;
      default:
        return; // completed: absorb retransmissions
    }
  }

  private sendAck(resp: SipMessage): void {
    if (!this.ack) {
      this.ack = buildAckForNon2xx(this.request, resp);
      this.ackBytes = this.ack.toBuffer();
    }
    this.write(this.ackBytes!, this.ack);
  }

  transportError(error: unknown): void {
    if (this.state === 'terminated') return;
    this.handlers.onTransportError?.(this, error);
    this.terminate('transport-error');
  }

  terminate(cause: TerminationCause): void {
    if (this.state === 'terminated') return;
    this.stopAllTimers();
    this.state = 'terminated';
    this.layer.forgetClient(this);
    this.handlers.onTerminated?.(this, cause);
  }
}

export class ServerTransaction extends Transaction {
  state: ServerState;
  readonly isInvite: boolean;
  /** the last response sent (retransmitted on request retransmissions) */
  lastResponse: SipMessage | null = null;
  private lastBytes: Buffer | null = null;
  private interval: number;
  handlers: ServerHandlers = {};

  constructor(layer: TransactionLayer, key: string, request: SipMessage, transport: TransportHandle) {
    super(layer, key, request, transport);
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'proceeding' : 'trying';
    this.interval = this.t.T1;
  }

  /** Sets the TU callbacks (returns this for chaining). */
  on(handlers: ServerHandlers): this {
    this.handlers = { ...this.handlers, ...handlers };
    return this;
  }

  /** Called by the layer after creation. */
  start(trying: TransactionLayerOptions['trying']): void {
    if (!this.isInvite || trying === 'never') return;
    if (trying === undefined || trying === 'immediate') this.respond(buildResponse(this.request, 100, 'Trying'));
    else
      this.startTimer('trying', trying, () => {
        if (this.lastResponse === null && this.state === 'proceeding') this.respond(buildResponse(this.request, 100, 'Trying'));
      });
  }

  /** The TU sends a response through this transaction. Returns false when the state does not allow it. */
  respond(resp: SipMessage): boolean {
    const s = resp.status;
    if (this.state === 'terminated' || this.state === 'completed' || this.state === 'confirmed') return false;
    if (this.state === 'accepted') {
      // RFC 6026: a proxy forwards 2xx retransmissions through the Accepted transaction.
      if (s < 200 || s >= 300) return false;
      return this.write(resp.toBuffer(), resp);
    }
    this.stopTimer('trying');
    if (!this.send(resp)) return false;
    if (s < 200) {
      if (this.state === 'trying') this.state = 'proceeding';
      return true;
    }
    const t64 = 64 * this.t.T1;
    if (this.isInvite) {
      if (s < 300) {
        this.state = 'accepted';
        this.startTimer('L', t64, () => this.terminate('normal'));
        // INVITE retransmissions are absorbed from here on; 2xx retransmissions pass through
        this.lastResponse = null;
        this.lastBytes = null;
        this.releaseMessages();
      } else {
        this.state = 'completed';
        if (!this.transport.reliable) this.startTimer('G', this.interval, () => this.retransmitFinal());
        this.startTimer('H', t64, () => {
          this.handlers.onTimeout?.(this);
          this.terminate('timeout');
        });
      }
    } else {
      this.state = 'completed';
      this.startTimer('J', this.transport.reliable ? 0 : t64, () => this.terminate('normal'));
    }
    return true;
  }

  private send(resp: SipMessage): boolean {
    this.lastResponse = resp;
    this.lastBytes = resp.toBuffer();
    return this.write(this.lastBytes, resp);
  }

  private retransmitFinal(): void {
    if (this.state !== 'completed') return;
    if (!this.write(this.lastBytes!, this.lastResponse!)) return;
    this.interval = Math.min(this.interval * 2, this.t.T2);
    this.startTimer('G', this.interval, () => this.retransmitFinal());
  }

  /** A retransmission of the request arrived: answer with the last response, if any. */
  receiveRetransmission(): void {
    if (this.state === 'accepted' || this.state === 'confirmed' || this.state === 'terminated') return; // absorbed
    if (this.lastBytes) this.write(this.lastBytes, this.lastResponse!);
  }

  /** An ACK for a non-2xx final response arrived (hop-by-hop, absorbed here). */
  receiveAck(): void {
    if (this.state !== 'completed') return;
    this.stopTimer('G');
    this.stopTimer('H');
    this.state = 'confirmed';
    this.startTimer('I', this.transport.reliable ? 0 : this.t.T4, () => this.terminate('normal'));
  }

  transportError(error: unknown): void {
    if (this.state === 'terminated') return;
    this.handlers.onTransportError?.(this, error);
    this.terminate('transport-error');
  }

  terminate(cause: TerminationCause): void {
    if (this.state === 'terminated') return;
    this.stopAllTimers();
    this.state = 'terminated';
    this.layer.forgetServer(this);
    this.handlers.onTerminated?.(this, cause);
  }
}

export type ServerReceiveResult =
  /** a new request: the TU handles it and answers through tx.respond() */
  | { type: 'request'; tx: ServerTransaction }
  /** a retransmission, absorbed (the last response was resent when there was one) */
  | { type: 'retransmission'; tx: ServerTransaction }
  /** ACK for a non-2xx final response: absorbed hop by hop */
  | { type: 'ack-absorbed'; tx: ServerTransaction }
  /** ACK for a 2xx (end to end): the proxy forwards it statelessly; tx is the INVITE when still known */
  | { type: 'ack-2xx'; tx?: ServerTransaction }
  /** CANCEL: tx is the CANCEL's own server transaction, invite the INVITE it cancels (when found) */
  | { type: 'cancel'; tx: ServerTransaction; invite?: ServerTransaction };

export type ClientReceiveResult = { type: 'response'; tx: ClientTransaction } | { type: 'stray' };

/** The transaction layer: matching, creation and the timer configuration. */
export class TransactionLayer {
  readonly timers: TimerConfig;
  readonly clock: Clock;
  private readonly trying: TransactionLayerOptions['trying'];
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();
  /** transactions by their reliable transport (a connection), for transportClosed() */
  private readonly byTransport = new Map<TransportHandle, Set<ServerTransaction | ClientTransaction>>();

  constructor(opts: TransactionLayerOptions = {}) {
    this.timers = { ...DEFAULT_TIMERS, ...(opts.timers ?? {}) };
    this.clock = opts.clock ?? defaultClock;
    this.trying = opts.trying;
  }

  get size(): { server: number; client: number } {
    return { server: this.servers.size, client: this.clients.size };
  }

  /** Matches an incoming request (already parsed and validated) to a server transaction, or creates one. */
  receiveRequest(req: SipMessage, transport: TransportHandle): ServerReceiveResult {
    if (req.method === 'ACK') {
      const tx = this.servers.get(serverKey(req));
      if (tx && (tx.state === 'completed' || tx.state === 'confirmed')) {
        tx.receiveAck();
        return { type: 'ack-absorbed', tx };
      }
      return tx ? { type: 'ack-2xx', tx } : { type: 'ack-2xx' };
    }
    const key = serverKey(req);
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveRetransmission();
      return { type: 'retransmission', tx: existing };
    }
    const tx = new ServerTransaction(this, flat(key), req, transport);
    this.servers.set(tx.key, tx);
    if (transport.reliable) this.bind(tx);
    tx.start(this.trying);
    if (req.method === 'CANCEL') {
      const invite = this.servers.get(serverKey(req, 'INVITE'));
      return invite ? { type: 'cancel', tx, invite } : { type: 'cancel', tx };
    }
    return { type: 'request', tx };
  }

  /** Starts a client transaction for `req` (its top Via must carry an RFC 3261 branch) and sends it. */
  sendRequest(req: SipMessage, transport: TransportHandle, handlers: ClientHandlers): ClientTransaction {
    if (req.method === 'ACK') throw new TypeError('ACK is not sent through a client transaction');
    const branch = req.via[0]?.branch;
    if (!isRfc3261Branch(branch)) throw new TypeError('client transactions need an RFC 3261 branch in the top Via');
    const key = clientKey(branch, req.method);
    if (this.clients.has(key)) throw new TypeError(`duplicate client transaction ${key}`);
    const tx = new ClientTransaction(this, flat(key), req, transport, handlers);
    this.clients.set(tx.key, tx);
    if (transport.reliable) this.bind(tx);
    tx.start();
    return tx;
  }

  /** Matches a response to its client transaction (stray responses are the proxy's to forward or drop). */
  receiveResponse(resp: SipMessage): ClientReceiveResult {
    const branch = resp.via[0]?.branch;
    if (!branch) return { type: 'stray' };
    const tx = this.clients.get(clientKey(branch, resp.cseq.method));
    if (!tx) return { type: 'stray' };
    tx.receive(resp);
    return { type: 'response', tx };
  }

  findServer(req: SipMessage, asMethod?: string): ServerTransaction | undefined {
    return this.servers.get(serverKey(req, asMethod));
  }

  /**
   * A reliable transport (a connection) closed: every transaction bound to it fails with a
   * transport error (RFC 3261 §17.1.4, §17.2.4): a client transaction's TU acts as on a 503,
   * a server transaction can no longer answer. `transport` is the handle the transactions were
   * given (the same object).
   */
  transportClosed(transport: TransportHandle, error: unknown): number {
    const set = this.byTransport.get(transport);
    if (!set) return 0;
    this.byTransport.delete(transport);
    for (const tx of set) tx.transportError(error);
    return set.size;
  }

  private bind(tx: ServerTransaction | ClientTransaction): void {
    let set = this.byTransport.get(tx.transport);
    if (!set) this.byTransport.set(tx.transport, (set = new Set()));
    set.add(tx);
  }

  private unbind(tx: ServerTransaction | ClientTransaction): void {
    const set = this.byTransport.get(tx.transport);
    if (set?.delete(tx) && set.size === 0) this.byTransport.delete(tx.transport);
  }

  /** Terminates every transaction and stops all timers. */
  shutdown(): void {
    for (const tx of [...this.servers.values()]) tx.terminate('shutdown');
    for (const tx of [...this.clients.values()]) tx.terminate('shutdown');
  }

  /** @internal */
  forgetServer(tx: ServerTransaction): void {
    if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
    if (tx.transport.reliable) this.unbind(tx);
  }

  /** @internal */
  forgetClient(tx: ClientTransaction): void {
    if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
    if (tx.transport.reliable) this.unbind(tx);
  }
}
