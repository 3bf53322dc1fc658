// Per-peer limits: the verdicts, counters and log lines, on addresses and identities only (no
// sockets, no SIP): the gateway asks before it parses a datagram, when it accepts a connection,
// and before the policy sees a request on a stream (src/gateway/border.ts).
//
//   request within the peer's rate            → pass
//   over it, while the peer's 503 budget lasts → reject: answer 503 with Retry-After
//   over both                                  → drop (UDP) / close the connection (streams),
//                                                and the peer is blocked: everything it sends
//                                                is dropped for as long as it keeps sending
//                                                over its rate (as Kamailio's pike does)
//
// Exempt: the configured addresses, and the gateway's own sockets (a request it sent to itself,
// its own retransmissions included). Responses are never limited: they belong to transactions the
// gateway started.
import { BlockList, isIP } from 'node:net';
import type { Logger } from 'pino';
import { BucketTable, type Bucket, type RateLimit } from './token-bucket.js';
import { HitLog, type LimitAction, type LimitName } from './hit-log.js';
import type { PeerLimits } from './config.js';

/**
 * Pass; Reject: answer 503 (with Retry-After); Drop: UDP discards silently, a stream closes the
 * connection.
 */
export const Verdict = { Pass: 0, Reject: 1, Drop: 2 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export type ConnectionVerdict = 'ok' | 'connections_per_ip' | 'open_connections_per_ip' | 'tls_handshakes_per_ip';

/** Plain counters for metrics (read with snapshot()). */
export interface LimitCounters {
  /** requests checked against the per-address limit */
  requests_checked: number;
  /** requests answered 503 by a per-address or per-identity limit */
  requests_rejected: number;
  /** requests discarded (UDP) past the 503 budget */
  requests_dropped: number;
  /** stream connections closed past the 503 budget */
  connections_closed: number;
  /** of the rejected/dropped/closed: by the per-identity limit */
  identity_limited: number;
  /** connections refused at accept, by reason */
  connections_refused_rate: number;
  connections_refused_open: number;
  handshakes_refused: number;
  /** connections closed because their peer stopped reading */
  slow_readers_closed: number;
  /** admitted datagrams dropped because their source's processing queue was full */
  datagrams_queue_dropped: number;
}

/** Every limit the border applies and what it does when hit: the metric's label pairs. */
export const LIMIT_HIT_KINDS: ReadonlyArray<readonly [LimitHitName, LimitAction]> = [
  ['requests_per_ip', 'reply_503'],
  ['requests_per_ip', 'drop'],
  ['requests_per_ip', 'close'],
  ['requests_per_identity', 'reply_503'],
  ['requests_per_identity', 'drop'],
  ['requests_per_identity', 'close'],
  ['connections_per_ip', 'refuse'],
  ['open_connections_per_ip', 'refuse'],
  ['tls_handshakes_per_ip', 'refuse'],
  ['slow_reader', 'close'],
  ['datagram_queue', 'drop'],
];

/** The per-peer limits, the slow-reader guard and the per-source datagram queue. */
export type LimitHitName = LimitName | 'slow_reader' | 'datagram_queue';

export interface PeerLimiterOptions {
  logger: Pick<Logger, 'warn'>;
  /** true for the gateway's own sockets: never limited */
  isOwnSocket?: (address: string, port: number) => boolean;
  /** monotonic milliseconds (tests) */
  now?: () => number;
}

const monotonic = (): number => performance.now();

export class PeerLimiter {
  readonly counters: LimitCounters = {
    requests_checked: 0,
    requests_rejected: 0,
    requests_dropped: 0,
    connections_closed: 0,
    identity_limited: 0,
    connections_refused_rate: 0,
    connections_refused_open: 0,
    handshakes_refused: 0,
    slow_readers_closed: 0,
    datagrams_queue_dropped: 0,
  };
  /** hits by limit and action (`limit|action`), for metrics: read with hitCounts() */
  private readonly hits = new Map<string, number>();
  readonly now: () => number;
  private requests: BucketTable | null = null;
  private identities: BucketTable | null = null;
  private replies!: BucketTable;
  private connections: BucketTable | null = null;
  private handshakes: BucketTable | null = null;
  private readonly open = new Map<string, number>();
  private exempt: BlockList | null = null;
  private log!: HitLog;
  private sweeper!: NodeJS.Timeout;
  private current: PeerLimits | undefined;

  constructor(
    limits: PeerLimits,
    private readonly opts: PeerLimiterOptions,
  ) {
    this.now = opts.now ?? monotonic;
    this.apply(limits);
  }

  /** The limits in force. */
  get limits(): PeerLimits {
    return this.current!;
  }

  /**
   * New limits (a reload), for the next requests and connections. A limit whose rate and burst are
   * unchanged keeps every peer's budget and block (a reload must not let a flood through); a
   * changed one starts every peer afresh. Counters and open-connection counts carry on.
   */
  reconfigure(limits: PeerLimits): void {
    this.apply(limits);
  }

  private apply(limits: PeerLimits): void {
    const prev = this.current;
    const on = limits.enabled;
    const table = (old: BucketTable | null, before: RateLimit | null | undefined, next: RateLimit | null): BucketTable | null =>
      next === null ? null : old !== null && before && before.rate === next.rate && before.burst === next.burst ? old : new BucketTable(next);
    this.requests = table(this.requests, prev?.requestsPerIp, on ? limits.requestsPerIp : null);
    this.identities = table(this.identities, prev?.requestsPerIdentity, on ? limits.requestsPerIdentity : null);
    this.replies = table(this.replies ?? null, prev?.repliesPerIp, limits.repliesPerIp)!;
    this.connections = table(this.connections, prev?.connectionsPerIp, on ? limits.connectionsPerIp : null);
    this.handshakes = table(this.handshakes, prev?.handshakesPerIp, on ? limits.handshakesPerIp : null);
    this.exempt = limits.exempt.length ? blockList(limits.exempt) : null;
    if (prev === undefined || prev.logIntervalMs !== limits.logIntervalMs) {
      if (prev !== undefined) {
        clearInterval(this.sweeper);
        this.log.sweep(this.now(), true); // the hits counted under the old interval get their line
      }
      this.log = new HitLog(this.opts.logger, limits.logIntervalMs);
      this.sweeper = setInterval(() => this.sweep(), Math.min(limits.logIntervalMs, 10_000));
      this.sweeper.unref();
    }
    this.current = limits;
  }

  /** Whether any request limit applies (false: the callers may skip the checks). */
  get limitsRequests(): boolean {
    return this.requests !== null || this.identities !== null;
  }

  /**
   * A request from `address` (before parsing on UDP; before the policy on streams: `reliable`,
   * where the last resort is closing the connection).
   */
  request(address: string, port: number, reliable: boolean): Verdict {
    const table = this.requests;
    if (table === null) return Verdict.Pass;
    // the gateway's own sockets share their address with other peers: they must not use up its budget
    if (this.opts.isOwnSocket?.(address, port)) return Verdict.Pass;
    this.counters.requests_checked++;
    const now = this.now();
    const b = table.entry(address, now);
    // a flood: blocked peers cost a lookup and a few float operations per request
    if (b.until > now) return this.droppedWhileBlocked('requests_per_ip', table, b, reliable, now);
    if (table.takeFrom(b, now)) return Verdict.Pass;
    return this.overLimit('requests_per_ip', address, address, port, reliable, now, table, b);
  }

  /** A request on a flow whose peer has the verified identity `key` (subject or fingerprint). */
  identityRequest(key: string, address: string, port: number, reliable: boolean): Verdict {
    const table = this.identities;
    if (table === null) return Verdict.Pass;
    const now = this.now();
    const b = table.entry(key, now);
    let v: Verdict;
    if (b.until > now) v = this.droppedWhileBlocked('requests_per_identity', table, b, reliable, now);
    else if (table.takeFrom(b, now)) return Verdict.Pass;
    else v = this.overLimit('requests_per_identity', key, address, port, reliable, now, table, b);
    if (v !== Verdict.Pass) this.counters.identity_limited++;
    return v;
  }

  /** Retry-After for a 503 of `limit` to `peer`: the configured value, else when a token is back. */
  retryAfter(peer: string, identity: boolean): number {
    if (this.limits.retryAfterS !== null) return this.limits.retryAfterS;
    const table = identity ? this.identities : this.requests;
    return table ? table.retryAfter(peer, this.now()) : 1;
  }

  private droppedWhileBlocked(limit: LimitName, table: BucketTable, b: Bucket, reliable: boolean, now: number): Verdict {
    b.dropped++;
    table.charge(b, now);
    if (reliable) this.counters.connections_closed++;
    else this.counters.requests_dropped++;
    this.count(limit, reliable ? 'close' : 'drop');
    return Verdict.Drop;
  }

  private count(limit: LimitHitName, action: LimitAction): void {
    const key = limit + '|' + action;
    this.hits.set(key, (this.hits.get(key) ?? 0) + 1);
  }

  /** Hits since start by limit and action, every pair of LIMIT_HIT_KINDS (0 when never hit). */
  hitCounts(): Array<{ limit: LimitHitName; action: LimitAction; hits: number }> {
    return LIMIT_HIT_KINDS.map(([limit, action]) => ({ limit, action, hits: this.hits.get(limit + '|' + action) ?? 0 }));
  }

  private overLimit(limit: LimitName, peer: string, address: string, port: number, reliable: boolean, now: number, table: BucketTable, b: Bucket): Verdict {
    if (this.isExempt(address, port)) return Verdict.Pass;
    const hits = 1 + b.dropped;
    b.dropped = 0;
    const r = this.replies.entry(address, now);
    if (this.replies.takeFrom(r, now)) {
      this.counters.requests_rejected++;
      this.count(limit, 'reply_503');
      this.log.hit(limit, peer, 'reply_503', now, hits);
      return Verdict.Reject;
    }
    if (reliable) this.counters.connections_closed++;
    else this.counters.requests_dropped++;
    this.count(limit, reliable ? 'close' : 'drop');
    this.log.hit(limit, peer, reliable ? 'close' : 'drop', now, hits);
    // blocked: nothing passes and nothing is answered until the peer has a request token again,
    // and what it sends meanwhile is charged (charge()), so a flooder stays blocked
    b.until = now + table.msToToken(b, now);
    return Verdict.Drop;
  }

  private isExempt(address: string, port: number): boolean {
    if (this.opts.isOwnSocket?.(address, port)) return true;
    if (!this.exempt) return false;
    const family = isIP(address);
    return family !== 0 && this.exempt.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * A new stream connection from `address` (TLS: also a handshake to come). 'ok' counts it open
   * until connectionClosed(address); any other verdict names the limit that refused it.
   */
  connection(address: string, port: number, tls: boolean): ConnectionVerdict {
    if (!this.limits.enabled || this.isExempt(address, port)) {
      this.opened(address);
      return 'ok';
    }
    const now = this.now();
    let verdict: ConnectionVerdict = 'ok';
    const open = this.open.get(address) ?? 0;
    if (this.limits.maxOpenPerIp !== null && open >= this.limits.maxOpenPerIp) verdict = 'open_connections_per_ip';
    else if (this.connections && !this.connections.take(address, now)) verdict = 'connections_per_ip';
    else if (tls && this.handshakes && !this.handshakes.take(address, now)) verdict = 'tls_handshakes_per_ip';
    if (verdict === 'ok') {
      this.opened(address);
      return verdict;
    }
    if (verdict === 'open_connections_per_ip') this.counters.connections_refused_open++;
    else if (verdict === 'connections_per_ip') this.counters.connections_refused_rate++;
    else this.counters.handshakes_refused++;
    this.count(verdict, 'refuse');
    this.log.hit(verdict, address, 'refuse', now);
    return verdict;
  }

  private opened(address: string): void {
    this.open.set(address, (this.open.get(address) ?? 0) + 1);
  }

  connectionClosed(address: string): void {
    const n = (this.open.get(address) ?? 1) - 1;
    if (n <= 0) this.open.delete(address);
    else this.open.set(address, n);
  }

  /** open connections from `address` (tests, diagnostics) */
  openFrom(address: string): number {
    return this.open.get(address) ?? 0;
  }

  queueDropped(): void {
    this.counters.datagrams_queue_dropped++;
    this.count('datagram_queue', 'drop');
  }

  slowReaderClosed(): void {
    this.counters.slow_readers_closed++;
    this.count('slow_reader', 'close');
  }

  snapshot(): LimitCounters {
    return { ...this.counters };
  }

  private sweep(): void {
    const now = this.now();
    this.requests?.sweep(now, (peer, n) => this.log.hit('requests_per_ip', peer, 'drop', now, n));
    this.identities?.sweep(now, (peer, n) => this.log.hit('requests_per_identity', peer, 'drop', now, n));
    this.replies.sweep(now);
    this.connections?.sweep(now);
    this.handshakes?.sweep(now);
    this.log.sweep(now);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweep();
    this.log.sweep(this.now(), true);
  }
}

function blockList(entries: string[]): BlockList {
  const b = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/');
    const family = isIP(addr!) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) b.addAddress(addr!, family);
    else b.addSubnet(addr!, Number(bits), family);
  }
  return b;
}

/** Checks an `exempt` entry: an IP address or CIDR block; the problem, or undefined when valid. */
export function exemptEntryProblem(e: string): string | undefined {
  const [addr, bits, extra] = e.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || extra !== undefined) return `"${e}" is not an IP address or CIDR block`;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))) return `"${e}" has an invalid prefix length`;
  return undefined;
}
