// RFC 5922 section 7.2/7.3 domain validation of a SIP server certificate. Node's
// checkServerIdentity implements RFC 6125 for HTTPS (wildcards on, CN ignored when DNS SANs exist,
// no SIP URIs), which is not what SIP asks for:
//   1. if the certificate has URI SANs with scheme sip/sips, only those count: one of them must be
//      a bare domain URI (sip:example.com, no user part) equal to the expected domain;
//   2. else, DNS SANs count (a wildcard `*.example.com` only when the operator allows it);
//   3. the subject CN is used only when the certificate has no SAN at all (of any kind).
import type { CertInfo } from './certinfo.js';

export type MatchedBy = 'uri' | 'dns' | 'cn';

export interface DomainMatch {
  matched: boolean;
  by?: MatchedBy;
  /** The certificate value that matched. */
  value?: string;
}

export interface DomainMatchOptions {
  /** Accept `*.example.com` in a DNS SAN for a single leftmost label. Off by default (RFC 5922 7.2). */
  allowWildcard?: boolean;
}

export function matchSipDomain(
  cert: Pick<CertInfo, 'san' | 'subject'>,
  expectedDomain: string,
  opts: DomainMatchOptions = {},
): DomainMatch {
  const expected = normalizeHost(expectedDomain);
  if (!expected) return { matched: false };
  const { san } = cert;
  if (san.sip_uris.length > 0) {
    for (const uri of san.sip_uris) {
      const host = sipUriDomain(uri);
      if (host !== null && host === expected) return { matched: true, by: 'uri', value: uri };
    }
    return { matched: false };
  }
  if (san.dns.length > 0) {
    for (const dns of san.dns) {
      if (dnsMatches(dns, expected, opts.allowWildcard === true)) return { matched: true, by: 'dns', value: dns };
    }
    return { matched: false };
  }
  const anySan = san.uri.length + san.email.length + san.ip.length > 0;
  const cn = cert.subject.cn;
  if (!anySan && cn !== undefined && normalizeHost(cn) === expected) return { matched: true, by: 'cn', value: cn };
  return { matched: false };
}

/**
 * Domain of a SIP URI that names a domain (no user part, no port constraint on matching);
 * null for `sip:user@host` (that names a user, not a domain) or junk.
 */
export function sipUriDomain(uri: string): string | null {
  const m = /^sips?:([^;?]*)/i.exec(uri);
  if (!m) return null;
  const hostport = m[1];
  if (hostport.includes('@')) return null;
  let host = hostport;
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
  else host = host.replace(/:\d*$/, '');
  return normalizeHost(host) || null;
}

function dnsMatches(pattern: string, expected: string, allowWildcard: boolean): boolean {
  const p = normalizeHost(pattern);
  if (!p) return false;
  if (!p.includes('*')) return p === expected;
  if (!allowWildcard) return false;
  // Only a whole leftmost label, and never matching across dots or the bare parent domain.
  if (!p.startsWith('*.') || p.indexOf('*', 1) >= 0) return false;
  const suffix = p.slice(1); // ".example.com"
  if (suffix.split('.').length < 3) return false; // refuse "*.com"
  if (!expected.endsWith(suffix)) return false;
  const label = expected.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.');
}

function normalizeHost(h: string): string {
  return h.trim().toLowerCase().replace(/\.$/, '');
}
