// Decision-log upload in the format of OPA's decision_logs plugin (v1/plugins/logs), so that an
// existing OPA log collector receives sip-bastion's decisions: events buffered in memory and, every
// min..max delay, POSTed to `url + resource` (default /logs) as gzipped JSON arrays with
// Content-Type: application/json and Content-Encoding: gzip, each body at most
// upload_size_limit_bytes compressed. Like OPA: a failed upload keeps its events for the next
// try (with backoff), a buffer over its byte limit drops the oldest events (counted), a single
// event larger than the limit is dropped (counted).
//
// An event carries OPA's fields (labels with id and version, decision_id, path, revision, input
// when logged, result = the decision, erased, requested_by = the peer's address, timestamp,
// metrics.timer_rego_query_eval_ns, error for a fail-closed decision) and one more, `sip`: the
// summary fields of the decision line (direction, method, status, request_uri, call_id, peer,
// local_domain). OPA's own decoders ignore fields they do not know.
import { randomUUID } from 'node:crypto';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';

const gzipAsync = promisify(gzip);

export interface DecisionUploadOptions {
  url: string;
  /** default /logs */
  resource?: string;
  token?: string;
  /** added to id and version */
  labels?: Record<string, string>;
  minDelayMs?: number;
  maxDelayMs?: number;
  uploadSizeLimitBytes?: number;
  bufferSizeLimitBytes?: number;
  timeoutMs?: number;
  /** reported in labels.version */
  version?: string;
  /** failures are reported here (at most one per upload attempt) */
  onError?: (message: string) => void;
}

export interface UploadStats {
  /** events uploaded (2xx) */
  uploaded: number;
  /** POSTs that failed (network error or non-2xx) */
  failedUploads: number;
  /** events dropped: buffer full, or larger than the upload limit alone */
  dropped: number;
  /** events waiting */
  buffered: number;
  bufferedBytes: number;
}

/** OPA's EventV1, plus the decision line's SIP summary. */
export interface DecisionEvent {
  labels: Record<string, string>;
  decision_id: string;
  revision?: string;
  path?: string;
  input?: unknown;
  result?: unknown;
  erased?: string[];
  error?: { code: string; message: string };
  requested_by?: string;
  timestamp: string;
  metrics?: Record<string, number>;
  sip?: Record<string, unknown>;
}

type Line = Record<string, unknown>;

/** The OPA event for one decision line (the pino JSON written by the decision log). */
export function eventFromLine(line: Line, labels: Record<string, string>): DecisionEvent {
  const ev: DecisionEvent = { labels, decision_id: String(line.decision_id), timestamp: String(line.timestamp ?? new Date(Number(line.time)).toISOString()) };
  if (typeof line.revision === 'string') ev.revision = line.revision;
  if (typeof line.path === 'string') ev.path = line.path;
  if (line.input !== undefined) ev.input = line.input;
  ev.result = line.decision;
  if (Array.isArray(line.erased)) ev.erased = line.erased as string[];
  const failure = line.failure as { kind?: string; message?: string } | undefined;
  if (failure) ev.error = { code: String(failure.kind), message: String(failure.message ?? '') };
  const peer = line.peer as { address?: string } | undefined;
  if (typeof peer?.address === 'string') ev.requested_by = peer.address;
  if (typeof line.eval_ns === 'number') ev.metrics = { timer_rego_query_eval_ns: line.eval_ns };
  const sip: Record<string, unknown> = {};
  for (const k of ['direction', 'method', 'status', 'request_uri', 'call_id', 'peer', 'local_domain']) if (line[k] !== undefined) sip[k] = line[k];
  ev.sip = sip;
  return ev;
}

export class DecisionUploader {
  readonly stats: UploadStats = { uploaded: 0, failedUploads: 0, dropped: 0, buffered: 0, bufferedBytes: 0 };
  private queue: string[] = [];
  private readonly labels: Record<string, string>;
  private readonly endpoint: string;
  private readonly limit: number;
  private readonly bufferLimit: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private stopped = false;
  private retry = 0;
  /** uncompressed/compressed of the last body: sizes the next one */
  private ratio = 6;
  /** where failures are reported (settable once a logger exists) */
  onError: ((message: string) => void) | undefined;

  constructor(private readonly opts: DecisionUploadOptions) {
    this.onError = opts.onError;
    this.labels = { id: randomUUID(), version: opts.version ?? '0', ...(opts.labels ?? {}) };
    this.endpoint = opts.url.replace(/\/+$/, '') + (opts.resource ?? '/logs');
    this.limit = opts.uploadSizeLimitBytes ?? 32768;
    this.bufferLimit = opts.bufferSizeLimitBytes ?? 16 << 20;
  }

  /** A decision line from the log (one JSON line). */
  push(line: string): void {
    let ev: string;
    try {
      ev = JSON.stringify(eventFromLine(JSON.parse(line) as Line, this.labels));
    } catch {
      return; // not a decision line we can read
    }
    this.queue.push(ev);
    this.stats.bufferedBytes += ev.length;
    while (this.stats.bufferedBytes > this.bufferLimit && this.queue.length > 0) {
      this.stats.bufferedBytes -= this.queue.shift()!.length;
      this.stats.dropped++;
    }
    this.stats.buffered = this.queue.length;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private delay(): number {
    const min = this.opts.minDelayMs ?? 5000;
    const max = Math.max(min, this.opts.maxDelayMs ?? 10000);
    if (this.retry > 0) return Math.min(max, 100 * 2 ** Math.min(this.retry, 10)); // backoff after failures
    return min + Math.random() * (max - min);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.upload().finally(() => this.schedule());
    }, this.delay());
    this.timer.unref();
  }

  /** Uploads everything buffered now; true when the buffer was emptied. Concurrent callers share one run. */
  upload(): Promise<boolean> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer and makes a last upload attempt, bounded by `timeoutMs`. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.upload(), new Promise((r) => (t = setTimeout(r, timeoutMs)))]);
    if (t) clearTimeout(t);
  }

  private async drain(): Promise<boolean> {
    while (this.queue.length > 0) {
      const { body, count } = await this.nextBody();
      if (count === 0) continue; // an event too large alone: dropped
      const ok = await this.post(body);
      if (!ok) {
        this.retry++;
        return false;
      }
      this.retry = 0;
      const sent = this.queue.splice(0, count);
      for (const e of sent) this.stats.bufferedBytes -= e.length;
      this.stats.uploaded += count;
      this.stats.buffered = this.queue.length;
    }
    return true;
  }

  /** The gzipped body of the first events of the queue that fit the limit (shrinking a guess). */
  private async nextBody(): Promise<{ body: Buffer; count: number }> {
    const target = this.limit * this.ratio * 0.9;
    let n = 0;
    let size = 2;
    while (n < this.queue.length && (n === 0 || size + this.queue[n]!.length + 1 <= target)) size += this.queue[n++]!.length + 1;
    for (;;) {
      const json = '[' + this.queue.slice(0, n).join(',') + ']';
      const body = await gzipAsync(json);
      if (body.length <= this.limit) {
        this.ratio = Math.max(1, json.length / body.length);
        return { body, count: n };
      }
      if (n === 1) {
        const big = this.queue.shift()!;
        this.stats.bufferedBytes -= big.length;
        this.stats.dropped++;
        this.stats.buffered = this.queue.length;
        this.onError?.(`decision event ${big.length} bytes does not fit upload_size_limit_bytes (${this.limit}) even gzipped; dropped`);
        return { body, count: 0 };
      }
      n = Math.max(1, Math.floor(n / 2));
    }
  }

  private async post(body: Buffer): Promise<boolean> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' };
    if (this.opts.token) headers.Authorization = `Bearer ${this.opts.token}`;
    try {
      const res = await fetch(this.endpoint, { method: 'POST', headers, body: new Uint8Array(body) as Uint8Array<ArrayBuffer>, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return true;
      this.stats.failedUploads++;
      this.onError?.(`decision log upload to ${this.endpoint} failed: HTTP ${res.status}`);
    } catch (e) {
      this.stats.failedUploads++;
      this.onError?.(`decision log upload to ${this.endpoint} failed: ${(e as Error).message}`);
    }
    return false;
  }
}
