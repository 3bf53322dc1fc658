// Where a request goes next: the policy's route, the Route set, or the Request-URI, turned into
// transport + address + port by RFC 3263 (NAPTR, SRV, A/AAAA; TLS preferred) with src/sip's resolver.
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { ResolveError, SipResolver } from '../sip/resolver.js';
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

export interface DnsOptions {
  /** e.g. ["127.0.0.1:5353"]; default (absent or empty): the system's resolvers */
  servers?: string[];
  /** per query and try (default 2000) */
  timeoutMs?: number;
  tries?: number;
  /** TLS targets first where NAPTR/SRV leave a choice (default true) */
  preferTls?: boolean;
  /** look up AAAA after A (default true) */
  ipv6?: boolean;
  /** with servers given: the hosts file consulted for names they do not know (default /etc/hosts) */
  hostsFile?: string;
}

/**
 * RFC 3263 §4 (NAPTR → SRV → A/AAAA, TLS preferred) by the SIP layer's resolver (src/sip/resolver.ts,
 * tested against a real DNS server), plus the proxy's synchronous fast path for IP hosts and the
 * hosts file for names DNS does not know (localhost).
 */
export class DnsResolver3263 implements Resolver {
  private readonly sip: SipResolver;
  private readonly hostsFile: string | undefined;
  private readonly ipv6: boolean;
  /** `opts`: the DNS options, or just the servers. */
  constructor(opts: DnsOptions | string[] = {}) {
    const o: DnsOptions = Array.isArray(opts) ? { servers: opts } : opts;
    // Configured servers are the only DNS asked: the fallback for names they do not know then
    // reads the hosts file itself instead of getaddrinfo, which would ask the system's DNS.
    this.hostsFile = o.servers?.length ? (o.hostsFile ?? '/etc/hosts') : undefined;
    this.ipv6 = o.ipv6 !== false;
    this.sip = new SipResolver({
      servers: o.servers?.length ? o.servers : undefined,
      timeoutMs: o.timeoutMs,
      tries: o.tries,
      preferTls: o.preferTls,
      families: o.ipv6 === false ? [4] : undefined,
    });
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
    let found;
    try {
      found = await this.sip.resolve(u);
    } catch (e) {
      if (e instanceof ResolveError) throw new NextHopError(503, 'Next Hop Lookup Failed');
      throw e;
    }
    if (found.length > 0) return found.map((r) => ({ transport: r.transport, host: r.address, port: r.port, expectedDomain: r.domain }));
    return this.fromHostsFile(u);
  }

  /**
   * Names outside DNS (/etc/hosts, e.g. localhost): RFC 3263's A/AAAA step through the system
   * resolver, or only the hosts file when DNS servers are configured.
   */
  private async fromHostsFile(u: SipUri): Promise<Target[]> {
    const host = bare(u.host);
    const t = uriTransport(u) ?? (u.scheme === 'sips' ? 'tls' : 'udp');
    try {
      const addrs = (this.hostsFile !== undefined ? await hostsFileLookup(this.hostsFile, host) : await lookup(host, { all: true })).filter((a) => this.ipv6 || a.family === 4);
      if (addrs.length > 0) return addrs.map((a) => ({ transport: t, host: a.address, port: u.port ?? defaultPort(t), expectedDomain: host.toLowerCase() }));
    } catch {
      // not known there either
    }
    throw new NextHopError(404, 'Next Hop Not Found');
  }
}

/** The addresses /etc/hosts (or `file`) gives `name`, in file order; none when unreadable. */
export async function hostsFileLookup(file: string, name: string): Promise<Array<{ address: string; family: number }>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const want = name.toLowerCase().replace(/\.$/, '');
  const out: Array<{ address: string; family: number }> = [];
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    const family = address ? isIP(address) : 0;
    if (family && names.some((n) => n.toLowerCase().replace(/\.$/, '') === want)) out.push({ address: address!, family });
  }
  return out;
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
