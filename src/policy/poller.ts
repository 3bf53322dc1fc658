// Bundle download like OPA's bundle plugin: GET the URL with `If-None-Match: <etag>` of the last
// bundle that activated; 304 keeps the current one; 200 hands the body to the engine. The ETag is
// remembered only when the bundle activated, so a bad bundle is fetched (and refused) again.
import type { LoadResult } from './engine.js';

export interface BundlePollerOptions {
  url: string;
  headers?: Record<string, string>;
  intervalMs: number;
  timeoutMs: number;
  maxBytes?: number;
  onBundle: (bytes: Uint8Array) => Promise<LoadResult>;
  onError: (message: string) => void;
}

export type PollOutcome =
  | { kind: 'loaded'; result: LoadResult }
  | { kind: 'not_modified' }
  | { kind: 'error'; message: string };

export class BundlePoller {
  private etag: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight: Promise<PollOutcome> | undefined;
  /** Number of requests sent (for tests and metrics). */
  requests = 0;

  constructor(private readonly opts: BundlePollerOptions) {}

  get currentEtag(): string | undefined {
    return this.etag;
  }

  /** One download attempt; concurrent callers share it. */
  poll(): Promise<PollOutcome> {
    this.inFlight ??= this.fetchOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule());
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  private async fetchOnce(): Promise<PollOutcome> {
    const headers: Record<string, string> = { ...(this.opts.headers ?? {}) };
    if (this.etag) headers['If-None-Match'] = this.etag;
    this.requests++;
    let res: Response;
    try {
      res = await fetch(this.opts.url, { headers, signal: AbortSignal.timeout(this.opts.timeoutMs), redirect: 'follow' });
    } catch (e) {
      return this.fail(`bundle download from ${this.opts.url} failed: ${(e as Error).message}`);
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return { kind: 'not_modified' };
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      return this.fail(`bundle download from ${this.opts.url} failed: HTTP ${res.status}`);
    }
    const max = this.opts.maxBytes ?? 64 * 1024 * 1024;
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > max) {
      await res.body?.cancel();
      return this.fail(`bundle from ${this.opts.url} is larger than ${max} bytes`);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      return this.fail(`bundle download from ${this.opts.url} failed: ${(e as Error).message}`);
    }
    if (bytes.length > max) return this.fail(`bundle from ${this.opts.url} is larger than ${max} bytes`);
    const result = await this.opts.onBundle(bytes);
    if (result.ok) this.etag = res.headers.get('etag') ?? undefined;
    return { kind: 'loaded', result };
  }

  private fail(message: string): PollOutcome {
    this.opts.onError(message);
    return { kind: 'error', message };
  }
}
