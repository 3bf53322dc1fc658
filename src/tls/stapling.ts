// OCSP stapling for our own server certificate (server domains with `ocsp: {stapling: true}`):
// the response is fetched from the responder in our certificate's AIA extension, checked like any
// OCSP answer (signed by our issuer or its delegated responder, about our certificate, in date),
// cached, and handed to every client that asks for it (status_request) through Node's
// 'OCSPRequest' server event. It is fetched again before it runs out: halfway between its
// thisUpdate and nextUpdate (as Caddy does), or after `cache_s` if that comes first; a failed fetch
// is retried with a growing delay while the previous answer, as long as it is in date, is still
// stapled. An answer past its nextUpdate is never stapled.
import { checkOcspResponse, ocspRequest, queryResponder } from './ocsp.js';
import { certInfo } from './certinfo.js';

export interface StaplerOptions {
  /** The responder (default: the first http:// OCSP URL in our certificate's AIA). */
  url?: string;
  timeoutMs?: number;
  /** Fetch again at most this long after a fetch (ms). Default 1 hour. */
  maxAgeMs?: number;
  /** The first retry delay after a failed fetch (doubles up to 10 minutes). Default 10 s. */
  retryMs?: number;
  /** Warnings (failed fetches, answers that do not verify, a certificate not "good"). */
  onEvent?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
}

interface Staple {
  der: Buffer;
  thisUpdate: number;
  nextUpdate: number;
  fetchedAt: number;
}

/** When a response fetched at `fetchedAt` is fetched again. */
export function refreshAt(s: { thisUpdate: number; nextUpdate: number; fetchedAt: number }, maxAgeMs: number): number {
  const byAge = s.fetchedAt + maxAgeMs;
  if (!Number.isFinite(s.nextUpdate)) return byAge;
  const halfway = s.thisUpdate + (s.nextUpdate - s.thisUpdate) / 2;
  // never later than halfway through the window, never sooner than a second after the fetch
  return Math.max(s.fetchedAt + 1000, Math.min(halfway, byAge));
}

const MAX_RETRY_MS = 10 * 60_000;

export class OcspStapler {
  readonly url: string;
  private staple: Staple | undefined;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  /** Fetches so far, and those that gave a response now stapled (tests, status). */
  fetches = 0;
  updates = 0;
  private readonly timeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly leafDer: Uint8Array,
    private readonly issuerDer: Uint8Array,
    private readonly opts: StaplerOptions = {},
  ) {
    const url = opts.url ?? certInfo(leafDer).ocsp_urls?.find((u) => u.startsWith('http://'));
    if (!url) throw new Error('our certificate names no http:// OCSP responder (AIA)');
    this.url = url;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.maxAgeMs = opts.maxAgeMs ?? 3_600_000;
    this.retryMs = opts.retryMs ?? 10_000;
  }

  /** Starts fetching (now) and refreshing. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.refresh();
  }

  /** Stops refreshing (the domain was replaced by a reload, or the gateway stops). */
  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The response to staple now, waiting for a fetch in flight up to the timeout; null when there
   * is no response in date.
   */
  async current(now = Date.now()): Promise<Buffer | null> {
    if (!this.valid(now) && this.inflight) {
      await Promise.race([this.inflight, new Promise((r) => setTimeout(r, this.timeoutMs).unref())]);
    }
    return this.valid(Date.now()) ? this.staple!.der : null;
  }

  private valid(now: number): boolean {
    return this.staple !== undefined && this.staple.nextUpdate > now;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<void> {
    const fields = { url: this.url, serial: certInfo(this.leafDer).serial };
    let next: number;
    try {
      this.fetches++;
      const der = await queryResponder(this.url, ocspRequest(this.leafDer, this.issuerDer), this.timeoutMs);
      const checked = checkOcspResponse(der, this.leafDer, this.issuerDer);
      if (checked.verdict === 'OCSP_VERIFY_FAILED') throw new Error('the response does not verify (signature, certificate or dates)');
      if (checked.verdict !== null) this.opts.onEvent?.('warn', `tls: OCSP stapling: the responder says ${checked.verdict} for our own certificate`, fields);
      const now = Date.now();
      this.staple = { der, thisUpdate: checked.thisUpdate ?? now, nextUpdate: checked.validUntil, fetchedAt: now };
      this.failures = 0;
      this.updates++;
      next = refreshAt(this.staple, this.maxAgeMs);
    } catch (e) {
      this.failures++;
      const delay = Math.min(this.retryMs * 2 ** (this.failures - 1), MAX_RETRY_MS);
      this.opts.onEvent?.('warn', 'tls: OCSP stapling: cannot fetch our response; retrying', { ...fields, error: (e as Error).message, retry_in_ms: delay, stapling: this.valid(Date.now()) ? 'previous response' : 'none' });
      next = Date.now() + delay;
    }
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }
}
