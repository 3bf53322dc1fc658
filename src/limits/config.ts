// The peer-limit configuration (`limits.peers` and the write-queue keys of `limits` in the gateway
// config) and its defaults. The defaults apply whenever the config does not say otherwise: a
// config written before these limits existed is protected too.
//
// Kamailio's pike module (2 s sampling, 30 requests per unit, i.e. 15/s per source address) is
// the guide, scaled for a border between providers: a peer here is a proxy carrying many users'
// traffic, not a phone, so a source address may send 100 requests/s with bursts of 200.
import type { RateLimit } from './token-bucket.js';

/** As written in the config: `false` switches one limit off. */
export interface PeerLimitsConfig {
  enabled?: boolean;
  requests_per_ip?: RateLimit | false;
  requests_per_identity?: (RateLimit & { key?: 'subject' | 'fingerprint' }) | false;
  connections_per_ip?: (RateLimit & { max_open?: number }) | false;
  tls_handshakes_per_ip?: RateLimit | false;
  /** Retry-After (seconds) of the 503; default: when the peer's bucket has a token again */
  retry_after_s?: number;
  /** 503 answers per source address; requests over UDP past them are dropped, streams closed */
  replies_per_ip?: RateLimit;
  /** addresses or CIDR blocks never limited */
  exempt?: string[];
  /** one log line per peer and limit per this many seconds */
  log_interval_s?: number;
}

/** The limits in force (defaults applied; null: off). */
export interface PeerLimits {
  enabled: boolean;
  requestsPerIp: RateLimit | null;
  requestsPerIdentity: RateLimit | null;
  identityKey: 'subject' | 'fingerprint';
  connectionsPerIp: RateLimit | null;
  maxOpenPerIp: number | null;
  handshakesPerIp: RateLimit | null;
  retryAfterS: number | null;
  repliesPerIp: RateLimit;
  exempt: string[];
  logIntervalMs: number;
}

export const DEFAULT_PEER_LIMITS: Readonly<PeerLimits> = Object.freeze({
  enabled: true,
  requestsPerIp: { rate: 100, burst: 200 },
  requestsPerIdentity: { rate: 200, burst: 400 },
  identityKey: 'subject',
  connectionsPerIp: { rate: 10, burst: 20 },
  maxOpenPerIp: 64,
  handshakesPerIp: { rate: 10, burst: 20 },
  retryAfterS: null,
  repliesPerIp: { rate: 20, burst: 40 },
  exempt: [],
  logIntervalMs: 10_000,
});

export function resolvePeerLimits(c: PeerLimitsConfig = {}): PeerLimits {
  const d = DEFAULT_PEER_LIMITS;
  const pick = <T extends RateLimit>(v: T | false | undefined, def: RateLimit | null): RateLimit | null => (v === false ? null : v ? { rate: v.rate, burst: v.burst } : def);
  const conn = c.connections_per_ip;
  return {
    enabled: c.enabled ?? d.enabled,
    requestsPerIp: pick(c.requests_per_ip, d.requestsPerIp),
    requestsPerIdentity: pick(c.requests_per_identity, d.requestsPerIdentity),
    identityKey: (c.requests_per_identity ? c.requests_per_identity.key : undefined) ?? d.identityKey,
    connectionsPerIp: pick(conn, d.connectionsPerIp),
    maxOpenPerIp: conn === false ? null : (conn?.max_open ?? d.maxOpenPerIp),
    handshakesPerIp: pick(c.tls_handshakes_per_ip, d.handshakesPerIp),
    retryAfterS: c.retry_after_s ?? d.retryAfterS,
    repliesPerIp: c.replies_per_ip ? { rate: c.replies_per_ip.rate, burst: c.replies_per_ip.burst } : d.repliesPerIp,
    exempt: c.exempt ?? d.exempt,
    logIntervalMs: (c.log_interval_s ?? d.logIntervalMs / 1000) * 1000,
  };
}

/** Slow readers: how much may wait for a connection's peer, and for how long. */
export interface WriteLimits {
  /** bytes queued in the process for one connection (beyond the kernel's buffers) */
  maxQueueBytes: number;
  /** queued bytes that make no progress this long close the connection */
  sendTimeoutMs: number;
}

export const DEFAULT_WRITE_LIMITS: Readonly<WriteLimits> = Object.freeze({ maxQueueBytes: 1 << 20, sendTimeoutMs: 10_000 });
