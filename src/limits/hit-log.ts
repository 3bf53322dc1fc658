// Limit hits: counted always, logged at most once per peer and limit per interval. The first hit
// of an interval writes a line; the hits after it are only counted and reported by the next line
// (`hits`: how many since the previous line). A flood therefore costs one line per interval.
import type { Logger } from 'pino';

export type LimitName = 'requests_per_ip' | 'requests_per_identity' | 'connections_per_ip' | 'open_connections_per_ip' | 'tls_handshakes_per_ip';
export type LimitAction = 'reply_503' | 'drop' | 'close' | 'refuse';

interface Entry {
  loggedAt: number;
  hits: number;
}

export class HitLog {
  private readonly last = new Map<string, Entry>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** `n` hits of `limit` by `peer` (an address or an identity). */
  hit(limit: LimitName, peer: string, action: LimitAction, now: number, n = 1): void {
    const key = limit + '|' + peer;
    const e = this.last.get(key);
    if (e && now - e.loggedAt < this.intervalMs) {
      e.hits += n;
      return;
    }
    if (!e && this.last.size >= this.maxEntries) this.sweep(now, true);
    const hits = e ? e.hits + n : n;
    this.last.set(key, { loggedAt: now, hits: 0 });
    this.logger.warn({ limit, peer, action, hits, interval_s: this.intervalMs / 1000 }, `limit: ${limit} exceeded`);
  }

  /**
   * Call about once per interval: peers whose interval is over get the line for the hits counted
   * since their last one (if any), or are forgotten.
   */
  sweep(now: number, all = false): void {
    for (const [k, e] of this.last) {
      if (!all && now - e.loggedAt < this.intervalMs) continue;
      if (e.hits > 0) {
        const [limit, ...rest] = k.split('|');
        this.logger.warn({ limit, peer: rest.join('|'), hits: e.hits, interval_s: this.intervalMs / 1000 }, `limit: ${limit} exceeded`);
      }
      if (e.hits > 0 && !all) {
        e.loggedAt = now;
        e.hits = 0;
      } else this.last.delete(k);
    }
  }
}
