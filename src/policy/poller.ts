// Bundle download like OPA's bundle plugin: GET the URL with `If-None-Match: <etag>` of the last
// bundle that activated; 304 keeps the current one; 200 hands the body to the engine. The ETag is
// remembered only when the bundle activated, so a bad bundle is fetched (and refused) again.
// Downloads can authenticate as OPA's services do: a bearer token (`Authorization: Bearer ...`)
// and a client certificate; the server's certificate can be checked against a given CA.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LoadResult } from './engine.js';

/** Credentials and TLS of bundle downloads. */
export interface DownloadOptions {
  /** The Authorization header value, read for every request (a token file may be rotated). */
  authorization?: () => string;
  /** Client certificate and key (PEM) presented to the bundle server. */
  cert?: string;
  key?: string;
  /** CA certificates (PEM) the server's certificate must chain to; default: the system's. */
  ca?: string;
}

export interface BundlePollerOptions {
  url: string;
  headers?: Record<string, string>;
  intervalMs: number;
  timeoutMs: number;
  maxBytes?: number;
  download?: DownloadOptions;
  onBundle: (bytes: Uint8Array) => Promise<LoadResult>;
  onError: (message: string) => void;
}

export type PollOutcome =
  | { kind: 'loaded'; result: LoadResult }
  | { kind: 'not_modified' }
  | { kind: 'error'; message: string };

const MAX_REDIRECTS = 5;

class DownloadError extends Error {}

interface Response {
  status: number;
  etag?: string;
  body?: Uint8Array;
}

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

  /** One GET (following redirects), bounded in time and size. */
  private get(url: URL, headers: Record<string, string>, redirects = 0): Promise<Response> {
    const max = this.opts.maxBytes ?? 64 * 1024 * 1024;
    const d = this.opts.download ?? {};
    return new Promise<Response>((resolve, reject) => {
      const https = url.protocol === 'https:';
      if (!https && url.protocol !== 'http:') return reject(new DownloadError(`unsupported URL scheme ${url.protocol}`));
      const options = { method: 'GET', headers, timeout: this.opts.timeoutMs, ...(https ? { cert: d.cert, key: d.key, ca: d.ca } : {}) };
      const req = (https ? httpsRequest : httpRequest)(url, options, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && status !== 304 && res.headers.location) {
          res.resume();
          if (redirects >= MAX_REDIRECTS) return reject(new DownloadError('too many redirects'));
          const next = new URL(res.headers.location, url);
          // credentials stay with the origin they were configured for
          const h = { ...headers };
          if (next.origin !== url.origin) delete h.Authorization;
          return resolve(this.get(next, h, redirects + 1));
        }
        if (status !== 200) {
          res.resume();
          return resolve({ status });
        }
        if (Number(res.headers['content-length'] ?? '0') > max) {
          res.destroy();
          return reject(new DownloadError(`larger than ${max} bytes`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) {
            res.destroy();
            reject(new DownloadError(`larger than ${max} bytes`));
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status, etag: (res.headers.etag as string | undefined) ?? undefined, body: new Uint8Array(Buffer.concat(chunks)) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new DownloadError(`timed out after ${this.opts.timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  private async fetchOnce(): Promise<PollOutcome> {
    const headers: Record<string, string> = { ...(this.opts.headers ?? {}) };
    if (this.etag) headers['If-None-Match'] = this.etag;
    this.requests++;
    let res: Response;
    try {
      const auth = this.opts.download?.authorization?.();
      if (auth) headers.Authorization = auth;
      res = await this.get(new URL(this.opts.url), headers);
    } catch (e) {
      const what = e instanceof DownloadError && /^larger than/.test(e.message) ? `bundle from ${this.opts.url} is ${e.message}` : `bundle download from ${this.opts.url} failed: ${(e as Error).message}`;
      return this.fail(what);
    }
    if (res.status === 304) return { kind: 'not_modified' };
    if (res.status !== 200) return this.fail(`bundle download from ${this.opts.url} failed: HTTP ${res.status}`);
    const result = await this.opts.onBundle(res.body!);
    if (result.ok) this.etag = res.etag;
    return { kind: 'loaded', result };
  }

  private fail(message: string): PollOutcome {
    this.opts.onError(message);
    return { kind: 'error', message };
  }
}
