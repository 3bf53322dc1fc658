// Token buckets by key (a source address, a certificate identity): `rate` tokens per second, at
// most `burst` in store. One Map lookup and a few float operations per check. The table is
// bounded: a bucket that has refilled to full is the same as no bucket, so idle ones are swept,
// and when the table is full the oldest entries go first.

export interface RateLimit {
  /** tokens per second */
  rate: number;
  /** bucket size: how many may come at once */
  burst: number;
}

interface Bucket {
  tokens: number;
  /** ms timestamp of the last refill */
  at: number;
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

  /** Takes one token for `key`; false when its bucket is empty (nothing is taken then). */
  take(key: string, now: number): boolean {
    const b = this.map.get(key);
    if (b === undefined) {
      if (this.map.size >= this.maxEntries) this.evictOldest();
      this.map.set(key, { tokens: this.limit.burst - 1, at: now });
      return true;
    }
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

  /** Whole seconds until `key` has a token again (at least 1): the Retry-After of a refusal. */
  retryAfter(key: string, now: number): number {
    const b = this.map.get(key);
    if (!b) return 1;
    const t = b.tokens + (now - b.at) * this.perMs;
    return Math.max(1, Math.ceil((1 - t) / this.limit.rate));
  }

  /** Drops buckets that have refilled to full (indistinguishable from absent ones). */
  sweep(now: number): void {
    for (const [k, b] of this.map) {
      if (b.tokens + (now - b.at) * this.perMs >= this.limit.burst) this.map.delete(k);
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
