// RFC 3263 server location: NAPTR -> SRV -> A/AAAA, with explicit transport, port and maddr
// handling, sips: meaning TLS only, and a preference for TLS. Uses node:dns with the servers given.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { parseUri, isSipUri, type SipUri } from './uri.js';

export type SipTransport = 'udp' | 'tcp' | 'tls';

export interface ResolvedTarget {
  transport: SipTransport;
  address: string;
  port: number;
  family: 4 | 6;
  /** the host name the address belongs to (SRV target or URI host/maddr) */
  host: string;
  /** the SIP domain of the URI: what a TLS peer certificate must match (RFC 5922) */
  domain: string;
  /** how this target was found */
  source: 'numeric' | 'a' | 'srv' | 'naptr';
}

export interface SipResolverOptions {
  /** DNS servers, e.g. ["127.0.0.1:5353"]; default: the system's */
  servers?: string[];
  /** per-query timeout (ms) and tries, passed to node:dns */
  timeoutMs?: number;
  tries?: number;
  /** transports this client supports (default udp, tcp, tls) */
  transports?: SipTransport[];
  /** put TLS ahead of other transports where DNS leaves a choice (default true) */
  preferTls?: boolean;
  /** transport for a sip: URI when RFC 3263 falls back to a default (numeric host, explicit port, no NAPTR/SRV); RFC: udp */
  defaultTransport?: SipTransport;
  /** address families to look up, in order (default [4, 6]) */
  families?: (4 | 6)[];
  /** random source for SRV weights (tests) */
  random?: () => number;
}

export class ResolveError extends Error {
  constructor(message: string, readonly codes: string[]) {
    super(message);
    this.name = 'ResolveError';
  }
}

interface Srv {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

const NAPTR_SERVICES: Record<string, SipTransport> = { 'SIPS+D2T': 'tls', 'SIP+D2T': 'tcp', 'SIP+D2U': 'udp' };
const SRV_PREFIX: Record<SipTransport, string> = { tls: '_sips._tcp.', tcp: '_sip._tcp.', udp: '_sip._udp.' };
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND', 'NODATA', 'NOTFOUND', 'ENONAME']);

/** Orders SRV records by priority, then by weighted random selection within a priority (RFC 2782). */
export function orderSrv(records: Srv[], random: () => number = Math.random): Srv[] {
  const out: Srv[] = [];
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  for (const p of priorities) {
    // zero-weight records first, so that they keep a small chance of selection
    const group = records.filter((r) => r.priority === p).sort((a, b) => (a.weight === 0 ? -1 : 0) - (b.weight === 0 ? -1 : 0));
    while (group.length) {
      const total = group.reduce((s, r) => s + r.weight, 0);
      const pick = random() * total;
      let run = 0;
      let idx = group.length - 1;
      for (let i = 0; i < group.length; i++) {
        run += group[i]!.weight;
        if (run >= pick && (group[i]!.weight > 0 || total === 0)) {
          idx = i;
          break;
        }
      }
      out.push(group.splice(idx, 1)[0]!);
    }
  }
  return out;
}

export class SipResolver {
  private readonly dns: dns.Resolver;
  private readonly transports: SipTransport[];
  private readonly preferTls: boolean;
  private readonly defaultTransport: SipTransport;
  private readonly families: (4 | 6)[];
  private readonly random: () => number;

  constructor(opts: SipResolverOptions = {}) {
    this.dns = new dns.Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
    if (opts.servers) this.dns.setServers(opts.servers);
    this.transports = opts.transports ?? ['tls', 'tcp', 'udp'];
    this.preferTls = opts.preferTls ?? true;
    this.defaultTransport = opts.defaultTransport ?? 'udp';
    this.families = opts.families ?? [4, 6];
    this.random = opts.random ?? Math.random;
  }

  /** Ordered targets to try for a SIP/SIPS URI. Empty when the name does not exist; ResolveError when DNS failed. */
  async resolve(target: string | SipUri): Promise<ResolvedTarget[]> {
    const uri = typeof target === 'string' ? parseUri(target, 'next hop') : target;
    if (!isSipUri(uri)) throw new TypeError(`not a sip/sips URI: ${uri.raw}`);
    const errors: string[] = [];
    const secure = uri.scheme === 'sips';
    const maddr = uri.params['maddr'] ?? null;
    const host = stripBrackets(maddr ?? uri.host).toLowerCase();
    const domain = stripBrackets(uri.host).toLowerCase();
    const tp = uri.params['transport']?.toLowerCase();
    let transport: SipTransport | null = null;
    if (tp !== undefined) {
      // sips + transport=tcp means TLS over TCP; transport=tls is the deprecated spelling.
      transport = secure ? 'tls' : tp === 'tls' ? 'tls' : tp === 'tcp' ? 'tcp' : tp === 'udp' ? 'udp' : null;
      if (transport === null || (secure && tp !== 'tcp' && tp !== 'tls')) return [];
    }
    const allowed = (t: SipTransport): boolean => this.transports.includes(t) && (!secure || t === 'tls');
    const fallback: SipTransport = transport ?? (secure ? 'tls' : this.defaultTransport);
    const defPort = (t: SipTransport): number => (t === 'tls' ? 5061 : 5060);

    // Numeric host: no DNS at all.
    const fam = isIP(host);
    if (fam) {
      if (!allowed(fallback)) return [];
      return [{ transport: fallback, address: host, port: uri.port ?? defPort(fallback), family: fam as 4 | 6, host, domain, source: 'numeric' }];
    }
    // Explicit port: A/AAAA only.
    if (uri.port !== null) {
      if (!allowed(fallback)) return [];
      return this.addresses(host, uri.port, fallback, domain, 'a', errors).then((r) => this.done(r, errors, host));
    }
    // Explicit transport: SRV for that transport, else A/AAAA.
    if (transport !== null) {
      if (!allowed(transport)) return [];
      const viaSrv = await this.fromSrv(SRV_PREFIX[transport] + host, transport, domain, 'srv', errors);
      if (viaSrv.length) return viaSrv;
      return this.done(await this.addresses(host, defPort(transport), transport, domain, 'a', errors), errors, host);
    }
    // NAPTR
    const naptr = await this.query(() => this.dns.resolveNaptr(host), errors);
    const usable = (naptr ?? [])
      .filter((r) => r.flags.toLowerCase() === 's' && NAPTR_SERVICES[r.service.toUpperCase()] && allowed(NAPTR_SERVICES[r.service.toUpperCase()]!))
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    if (this.preferTls) usable.sort((a, b) => Number(NAPTR_SERVICES[b.service.toUpperCase()] === 'tls') - Number(NAPTR_SERVICES[a.service.toUpperCase()] === 'tls'));
    if (usable.length) {
      const out: ResolvedTarget[] = [];
      for (const r of usable) out.push(...(await this.fromSrv(r.replacement, NAPTR_SERVICES[r.service.toUpperCase()]!, domain, 'naptr', errors)));
      if (out.length) return dedupe(out);
    }
    // No NAPTR: SRV per supported transport, TLS first when preferred.
    const order: SipTransport[] = secure ? ['tls'] : this.preferTls ? ['tls', 'tcp', 'udp'] : ['udp', 'tcp', 'tls'];
    const out: ResolvedTarget[] = [];
    for (const t of order.filter(allowed)) out.push(...(await this.fromSrv(SRV_PREFIX[t] + host, t, domain, 'srv', errors)));
    if (out.length) return dedupe(out);
    // No SRV: A/AAAA on the host with the default transport and port.
    if (!allowed(fallback)) return [];
    return this.done(await this.addresses(host, defPort(fallback), fallback, domain, 'a', errors), errors, host);
  }

  private done(r: ResolvedTarget[], errors: string[], host: string): ResolvedTarget[] {
    if (r.length === 0 && errors.length) throw new ResolveError(`DNS lookup failed for ${host}: ${errors.join(', ')}`, errors);
    return r;
  }

  private async fromSrv(name: string, transport: SipTransport, domain: string, source: 'srv' | 'naptr', errors: string[]): Promise<ResolvedTarget[]> {
    const recs = await this.query(() => this.dns.resolveSrv(name), errors);
    if (!recs || recs.length === 0) return [];
    const out: ResolvedTarget[] = [];
    for (const r of orderSrv(recs, this.random)) {
      if (r.name === '' || r.name === '.') continue; // "service decidedly not available"
      out.push(...(await this.addresses(r.name, r.port, transport, domain, source, errors)));
    }
    return out;
  }

  private async addresses(host: string, port: number, transport: SipTransport, domain: string, source: ResolvedTarget['source'], errors: string[]): Promise<ResolvedTarget[]> {
    const out: ResolvedTarget[] = [];
    for (const f of this.families) {
      const addrs = await this.query(() => (f === 4 ? this.dns.resolve4(host) : this.dns.resolve6(host)), errors);
      for (const address of addrs ?? []) out.push({ transport, address, port, family: f, host: host.toLowerCase(), domain, source });
    }
    return out;
  }

  /** Runs a query; "no such name / no data" is an empty answer, other failures are recorded. */
  private async query<T>(fn: () => Promise<T[]>, errors: string[]): Promise<T[] | null> {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'EUNKNOWN';
      if (!NO_DATA.has(code)) errors.push(code);
      return null;
    }
  }
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function dedupe(ts: ResolvedTarget[]): ResolvedTarget[] {
  const seen = new Set<string>();
  return ts.filter((t) => {
    const k = `${t.transport}|${t.address}|${t.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
