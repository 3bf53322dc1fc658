// CRLs from the certificates' distribution points (`crl_distribution_points: {fetch: true}`), and
// stale CRLs (`crl_stale`).
//
// CrlFetcher: the http:// URLs in the CRL distribution points of the CA-list certificates are
// fetched when the domain comes into force; those of a peer's chain when a peer first shows them
// (the connection waits, up to the timeout, as for OCSP). Each fetched CRL must verify with a
// certificate of that name (the CA list, or the chain that named the URL), else it is not used.
// Each URL is fetched again at its CRL's nextUpdate (a minute before, within the validity window;
// hourly without one), failures retried with a growing delay; the previous CRL stays in use (and
// goes stale at its nextUpdate, see below). A CRL that changed is reported ('crl-updated'): the
// gateway then verifies the domain's open connections again.
//
// StaleCrls: a CRL past its nextUpdate is reported once per domain load ('crl-stale', with the
// action taken: rejected, i.e. its issuer's certificates fail with CRL_HAS_EXPIRED, or accepted
// with a warning, i.e. still used for its revocations) when a verification meets it, and by a
// watch timer at each nextUpdate.
import * as http from 'node:http';
import { parseCrl, splitCrls, type CrlIndex, type CrlModel } from './crl.js';
import { signatureValid } from './verify/signature.js';
import { GEN, type CertModel } from './verify/model.js';
import type { Background, TrustEventSink } from './domains.js';

export interface CrlFetchConfig {
  /** Fetch CRLs over http from the distribution points of the CA list and of peer chains. */
  fetch?: boolean;
  /** Per fetch. Default 3000. */
  timeout_ms?: number;
  /** Largest CRL accepted. Default 10 MiB. */
  max_bytes?: number;
}

export type CrlStaleAction = 'reject' | 'accept_with_warning';

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** The http:// URLs of a certificate's CRL distribution points (fullName URIs). */
export function cdpUrls(cert: CertModel): string[] {
  const out: string[] = [];
  for (const dp of cert.crldp ?? []) {
    for (const g of dp.name?.full ?? []) if (g.type === GEN.URI && text(g.bytes).startsWith('http://')) out.push(text(g.bytes));
  }
  return out;
}

/** Reports each stale CRL once per domain load. */
export class StaleCrls {
  private readonly seen = new Set<string>();
  constructor(
    private readonly domain: string,
    private readonly action: CrlStaleAction,
    private readonly events: TrustEventSink,
  ) {}

  report(crl: CrlModel): void {
    if (this.seen.has(crl.sha256)) return;
    this.seen.add(crl.sha256);
    const accepted = this.action === 'accept_with_warning';
    this.events.emit({
      domain: this.domain,
      level: 'warn',
      kind: 'crl-stale',
      message: accepted ? 'tls: stale CRL (past its nextUpdate) still used, as crl_stale: accept_with_warning says' : "tls: stale CRL (past its nextUpdate): its issuer's certificates fail with CRL_HAS_EXPIRED",
      fields: {
        source: crl.file,
        issuer: crl.issuer.entries.map((e) => Buffer.from(e.value).toString('latin1')).reverse().join(', '),
        next_update: crl.nextUpdate ? new Date(crl.nextUpdate.ms).toISOString() : undefined,
        action: accepted ? 'accepted' : 'rejected',
      },
    });
  }
}

/** Reports the domain's CRLs as they go stale, at each nextUpdate, without waiting for a peer. */
export class StaleCrlWatch implements Background {
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly index: CrlIndex,
    private readonly stale: StaleCrls,
  ) {}

  start(): void {
    // after the caller's turn: the registry's listeners are attached by then
    this.stop();
    this.timer = setTimeout(() => this.check(), 0);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reports what is stale now; wakes up at the next nextUpdate to come. */
  check(): void {
    this.stop();
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const crl of this.index.all()) {
      const at = crl.nextUpdate?.ms;
      if (at === undefined || Number.isNaN(at)) continue;
      if (at <= now) this.stale.report(crl);
      else next = Math.min(next, at);
    }
    if (Number.isFinite(next)) {
      this.timer = setTimeout(() => this.check(), Math.min(next - now + 1000, 2 ** 31 - 1));
      this.timer.unref();
    }
  }
}

interface Entry {
  /** certificates a CRL from this URL may be signed by (same name as its issuer) */
  issuers: CertModel[];
  sha256?: string;
  failures: number;
  timer?: NodeJS.Timeout;
  inflight?: Promise<boolean>;
}

const MAX_RETRY_MS = 10 * 60_000;

export class CrlFetcher implements Background {
  private readonly entries = new Map<string, Entry>();
  private running = false;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  /** successful fetches that changed a CRL (tests, status) */
  updates = 0;

  constructor(
    private readonly domain: string,
    private readonly index: CrlIndex,
    private readonly cas: CertModel[],
    cfg: CrlFetchConfig,
    private readonly events: TrustEventSink,
    private readonly onUpdate: () => void = () => {},
  ) {
    this.timeoutMs = cfg.timeout_ms ?? 3000;
    this.maxBytes = cfg.max_bytes ?? 10 * 1024 * 1024;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const ca of this.cas) for (const url of cdpUrls(ca)) this.entry(url, []);
    for (const url of this.entries.keys()) void this.fetch(url);
  }

  stop(): void {
    this.running = false;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
  }

  /** Whether a chain (peer first) names a distribution point never fetched. */
  needs(chain: CertModel[]): boolean {
    return chain.some((c) => cdpUrls(c).some((u) => !this.entries.get(u)?.sha256 && !this.entries.get(u)?.failures));
  }

  /**
   * Fetches the distribution points of a chain (peer first, each certificate's issuer after it)
   * that were never fetched; true when a CRL was added or changed.
   */
  async ensure(chain: CertModel[]): Promise<boolean> {
    const waits: Promise<boolean>[] = [];
    chain.forEach((c, i) => {
      for (const url of cdpUrls(c)) {
        const e = this.entry(url, chain.slice(i + 1).filter((x) => x.subject.canon === c.issuer.canon));
        if (e.inflight) waits.push(e.inflight);
        else if (!e.sha256 && !e.failures) waits.push(this.fetch(url));
      }
    });
    return (await Promise.all(waits)).some(Boolean);
  }

  private entry(url: string, issuers: CertModel[]): Entry {
    let e = this.entries.get(url);
    if (!e) this.entries.set(url, (e = { issuers: [], failures: 0 }));
    for (const c of issuers) if (!e.issuers.some((x) => x.sha256 === c.sha256)) e.issuers.push(c);
    return e;
  }

  private fetch(url: string): Promise<boolean> {
    const e = this.entries.get(url)!;
    e.inflight ??= this.fetchOnce(url, e).finally(() => (e.inflight = undefined));
    return e.inflight;
  }

  private async fetchOnce(url: string, e: Entry): Promise<boolean> {
    let changed = false;
    let next: number;
    try {
      const body = await httpGet(url, this.timeoutMs, this.maxBytes);
      const crls = splitCrls(body, url).map((der) => parseCrl(new Uint8Array(der), url));
      for (const crl of crls) {
        const signers = [...this.cas, ...e.issuers].filter((c) => c.subject.canon === crl.issuer.canon);
        if (!signers.some((c) => signatureValid(crl, c))) throw new Error('the CRL does not verify with any certificate of its issuer name');
      }
      const sha = crls.map((c) => c.sha256).join(',');
      if (sha !== e.sha256) {
        this.index.replaceSource(url, crls);
        e.sha256 = sha;
        changed = true;
        this.updates++;
      }
      e.failures = 0;
      const now = Date.now();
      const ends = crls.map((c) => c.nextUpdate?.ms).filter((t): t is number => t !== undefined && !Number.isNaN(t));
      if (ends.length === 0) next = now + 3_600_000;
      else {
        const end = Math.min(...ends);
        const begin = Math.max(...crls.map((c) => c.thisUpdate.ms));
        // at nextUpdate: a minute before, within the window; a CRL already stale: as a failure
        next = end > now ? Math.max(now + 1000, end - Math.min(60_000, (end - begin) / 10)) : now + this.retryDelay(++e.failures);
      }
      this.events.emit({ domain: this.domain, level: 'info', kind: changed ? 'crl-updated' : 'crl-fetched', message: changed ? 'tls: CRL fetched from its distribution point (new)' : 'tls: CRL fetched from its distribution point (unchanged)', fields: { url, next_fetch: new Date(next).toISOString() } });
    } catch (err) {
      const delay = this.retryDelay(++e.failures);
      next = Date.now() + delay;
      this.events.emit({ domain: this.domain, level: 'warn', kind: 'crl-fetch-failed', message: 'tls: cannot fetch a CRL from its distribution point; the previous one (if any) stays in use', fields: { url, error: (err as Error).message, retry_in_ms: delay } });
    }
    if (changed) this.onUpdate();
    if (this.running) {
      if (e.timer) clearTimeout(e.timer);
      e.timer = setTimeout(() => void this.fetch(url), Math.min(Math.max(0, next - Date.now()), 2 ** 31 - 1));
      e.timer.unref();
    }
    return changed;
  }

  private retryDelay(failures: number): number {
    return Math.min(30_000 * 2 ** (failures - 1), MAX_RETRY_MS);
  }
}

/** GET over http://, at most `maxBytes`, within `timeoutMs`. */
function httpGet(url: string, timeoutMs: number, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'http:') return reject(new Error('only http:// distribution points are fetched'));
    const req = http.get(u, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > maxBytes) req.destroy(new Error(`CRL larger than ${maxBytes} bytes`));
        else chunks.push(d);
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
