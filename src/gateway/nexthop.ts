// Where a request goes next: the policy's route, the Route set, or the Request-URI, turned into
// transport + address + port by RFC 3263 (NAPTR, SRV, A/AAAA; TLS preferred) with node:dns.
// A resolver from src/sip can replace this one (same Resolver shape).
import { isIP } from 'node:net';
import { Resolver as DnsResolver } from 'node:dns/promises';
import { parseUri, isSipUri, type SipUri } from '../sip/uri.js';
import type { Transport } from './flow.js';

export interface Target {
  transport: Transport;
  host: string;
  port: number;
  /** SIP domain the TLS server must prove (RFC 5922) */
  expectedDomain?: string;
}

export interface Resolver {
  /** Ordered targets for a SIP/SIPS URI (first = most preferred). */
  resolve(uri: SipUri): Promise<Target[]>;
  /** The same, when it needs no lookup (IP literal host): the proxy's synchronous fast path. */
  resolveNow?(uri: SipUri): Target[] | undefined;
}

export class NextHopError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`${status} ${reason}`);
  }
}

const defaultPort = (t: Transport): number => (t === 'tls' ? 5061 : 5060);

function uriTransport(u: SipUri): Transport | undefined {
  const p = u.params['transport']?.toLowerCase();
  if (u.scheme === 'sips') return 'tls';
  if (p === 'tls') return 'tls';
  if (p === 'tcp') return 'tcp';
  if (p === 'udp') return 'udp';
  return undefined;
}

const bare = (h: string): string => h.replace(/^\[|\]$/g, '');

/** RFC 3263 §4 with node:dns (NAPTR → SRV → A/AAAA). IP hosts and explicit ports short-cut. */
export class DnsResolver3263 implements Resolver {
  private readonly dns: DnsResolver;
  constructor(servers?: string[]) {
    this.dns = new DnsResolver({ timeout: 2000, tries: 2 });
    if (servers?.length) this.dns.setServers(servers);
  }

  resolveNow(u: SipUri): Target[] | undefined {
    const host = bare(u.host);
    if (!isIP(host)) return undefined;
    const t = uriTransport(u) ?? 'udp';
    return [{ transport: t, host, port: u.port ?? defaultPort(t) }];
  }

  async resolve(u: SipUri): Promise<Target[]> {
    const now = this.resolveNow(u);
    if (now) return now;
    const host = bare(u.host);
    const forced = uriTransport(u);
    if (u.port !== null) {
      const t = forced ?? 'udp';
      return (await this.addresses(host)).map((a) => ({ transport: t, host: a, port: u.port!, expectedDomain: host }));
    }
    // NAPTR (RFC 3263 §4.1): SIPS+D2T, SIP+D2T, SIP+D2U; TLS first when we may choose.
    const services: Array<{ t: Transport; srv: string }> = [];
    try {
      const naptr = await this.dns.resolveNaptr(host);
      naptr.sort((a, b) => a.order - b.order || a.preference - b.preference);
      for (const n of naptr) {
        const svc = n.service.toUpperCase();
        const t: Transport | undefined = svc === 'SIPS+D2T' ? 'tls' : svc === 'SIP+D2T' ? 'tcp' : svc === 'SIP+D2U' ? 'udp' : undefined;
        if (!t || (forced && t !== forced) || (u.scheme === 'sips' && t !== 'tls')) continue;
        if (n.flags.toLowerCase() === 's' && n.replacement) services.push({ t, srv: n.replacement });
      }
    } catch {
      // no NAPTR: SRV lookups below
    }
    if (services.length === 0) {
      const order: Transport[] = forced ? [forced] : u.scheme === 'sips' ? ['tls'] : ['tls', 'tcp', 'udp'];
      for (const t of order) services.push({ t, srv: `${t === 'tls' ? '_sips._tcp' : t === 'tcp' ? '_sip._tcp' : '_sip._udp'}.${host}` });
    }
    for (const s of services) {
      let srvs;
      try {
        srvs = await this.dns.resolveSrv(s.srv);
      } catch {
        continue;
      }
      srvs.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
      const out: Target[] = [];
      for (const r of srvs) for (const a of await this.addresses(r.name).catch(() => [])) out.push({ transport: s.t, host: a, port: r.port, expectedDomain: host });
      if (out.length) return out;
    }
    const t = forced ?? (u.scheme === 'sips' ? 'tls' : 'udp');
    return (await this.addresses(host)).map((a) => ({ transport: t, host: a, port: defaultPort(t), expectedDomain: host }));
  }

  private async addresses(host: string): Promise<string[]> {
    const out: string[] = [];
    try {
      out.push(...(await this.dns.resolve4(host)));
    } catch {
      /* none */
    }
    try {
      out.push(...(await this.dns.resolve6(host)));
    } catch {
      /* none */
    }
    if (out.length === 0) {
      // /etc/hosts names (localhost) are not in DNS
      const { lookup } = await import('node:dns/promises');
      try {
        for (const a of await lookup(host, { all: true })) out.push(a.address);
      } catch {
        /* none */
      }
    }
    if (out.length === 0) throw new NextHopError(404, 'Next Hop Not Found');
    return out;
  }
}

/** Parses a route URI from the policy or a Route header into a SIP URI (or throws a 500/416). */
export function routeUri(text: string): SipUri {
  let u;
  try {
    u = parseUri(text, 'route');
  } catch {
    throw new NextHopError(500, 'Invalid Route URI');
  }
  if (!isSipUri(u)) throw new NextHopError(416, 'Unsupported URI Scheme');
  return u;
}
