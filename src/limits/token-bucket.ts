// Token buckets by key (a source address, a certificate identity): `rate` tokens per second, at
// most `burst` in store. One Map lookup and a few float operations per check. The table is
// bounded: a bucket that has refilled to full is the same as no bucket, so idle ones are swept,
// and when the table is full the oldest entries go first.
//
// A bucket can also be blocked until a time: the limiter blocks a peer that is over its rate and
// its 503 budget, and every request that arrives while it is blocked is charged to the bucket
// (charge()): a flooder stays blocked for as long as it floods, each of its requests costing a
// lookup and a few float operations, and is answered nothing.

export interface RateLimit {
  /** tokens per second */
  rate: number;
  /** bucket size: how many may come at once */
  burst: number;
}

export interface Bucket {
  tokens: number;
  /** ms timestamp of the last refill */
  at: number;
  /** blocked (requests dropped without further checks) until this ms timestamp */
  until: number;
  /** requests dropped while blocked, not yet reported */
  dropped: number;
}

export class BucketTable {
  private readonly map = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    readonly limit: RateLimit,
    private readonly maxEntries = 100_000,
  ) {
    this.perMs = limit.rate / 1000;
  }

  get size(): number {
    return this.map.size;
  }

  /** The bucket of `key`, created full when absent. */
  entry(key: string, now: number): Bucket {
    let b = this.map.get(key);
    if (b === undefined) {
      if (this.map.size >= this.maxEntries) this.evictOldest();
      b = { tokens: this.limit.burst, at: now, until: 0, dropped: 0 };
      this.map.set(key, b);
    }
    return b;
  }

  get(key: string): Bucket | undefined {
    return this.map.get(key);
  }

  /** Takes one token from `b`; false when it is empty (nothing is taken then). */
  takeFrom(b: Bucket, now: number): boolean {
    let t = b.tokens + (now - b.at) * this.perMs;
    if (t > this.limit.burst) t = this.limit.burst;
    b.at = now;
    if (t >= 1) {
      b.tokens = t - 1;
      return true;
    }
    b.tokens = t;
    return false;
  }

  /** Takes one token for `key`; false when its bucket is empty (nothing is taken then). */
  take(key: string, now: number): boolean {
    return this.takeFrom(this.entry(key, now), now);
  }

  /**
   * A request that arrived while `b` is blocked: it is charged all the same (the bucket may go
   * into debt, at most one burst deep) and the block lasts until the bucket has a token again.
   * A peer that keeps sending over its rate therefore stays blocked for as long as it does (as
   * Kamailio's pike blocks an address while its density stays over the limit), and one that
   * slows down or stops is back within (1 + burst) / rate seconds.
   */
  charge(b: Bucket, now: number): void {
    let t = b.tokens + (now - b.at) * this.perMs;
    if (t > this.limit.burst) t = this.limit.burst;
    t -= 1;
    if (t < -this.limit.burst) t = -this.limit.burst;
    b.tokens = t;
    b.at = now;
    b.until = t >= 1 ? now : now + (1 - t) / this.perMs;
  }

  /** Milliseconds until `b` has a token again (0 when it has one). */
  msToToken(b: Bucket, now: number): number {
    const t = b.tokens + (now - b.at) * this.perMs;
    return t >= 1 ? 0 : (1 - t) / this.perMs;
  }

  /** Whole seconds until `key` has a token again (at least 1): the Retry-After of a refusal. */
  retryAfter(key: string, now: number): number {
    const b = this.map.get(key);
    return b ? Math.max(1, Math.ceil(this.msToToken(b, now) / 1000)) : 1;
  }

  /**
   * Reports the unreported drops of every bucket to `flush`, then drops the buckets that have
   * refilled to full (indistinguishable from absent ones).
   */
  sweep(now: number, flush?: (key: string, dropped: number) => void): void {
    for (const [k, b] of this.map) {
      if (b.dropped > 0) {
        flush?.(k, b.dropped);
        b.dropped = 0;
      }
      if (b.until <= now && b.tokens + (now - b.at) * this.perMs >= this.limit.burst) this.map.delete(k);
    }
  }

  private evictOldest(): void {
    // a tenth at a time, in insertion order: the oldest buckets first
    let n = Math.max(1, Math.floor(this.maxEntries / 10));
    for (const k of this.map.keys()) {
      this.map.delete(k);
      if (--n === 0) break;
    }
  }
}
