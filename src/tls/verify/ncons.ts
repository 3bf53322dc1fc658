// Name constraints as OpenSSL 3.0 checks them (crypto/x509/v3_ncons.c): the subject DN against
// directoryName subtrees, the subject's emailAddress attributes and the rfc822Name SANs against
// email subtrees, DNS / URI / IP SANs against theirs, and for the leaf without DNS SANs, a CN that
// looks like a host name against DNS subtrees. Results are OpenSSL's code names (null: obeyed).
import { domainToUnicode } from 'node:url';
import { TAG } from '../der.js';
import { toUtf8 } from './names.js';
import { GEN, OID, type CertModel, type GeneralName, type GeneralSubtree, type NameConstraints } from './model.js';

const NAME_CHECK_MAX = 1 << 20;

export function nameConstraintsCheck(x: CertModel, nc: NameConstraints): string | null {
  const nameCount = x.subject.entries.length + (x.altnames?.length ?? 0);
  const constraintCount = nc.permitted.length + nc.excluded.length;
  if (nameCount > 0 && constraintCount > NAME_CHECK_MAX / nameCount) return 'UNSPECIFIED';
  if (x.subject.entries.length > 0) {
    const r = ncMatch({ type: GEN.DIRNAME, der: x.subject.der, bytes: x.subject.der, name: x.subject }, nc);
    if (r) return r;
    for (const e of x.subject.entries) {
      if (e.oid !== OID.EMAIL_ADDRESS) continue;
      if (e.tag !== TAG.IA5_STRING) return 'UNSUPPORTED_NAME_SYNTAX';
      const r2 = ncMatch({ type: GEN.EMAIL, der: e.value, bytes: e.value }, nc);
      if (r2) return r2;
    }
  }
  for (const g of x.altnames ?? []) {
    const r = ncMatch(g, nc);
    if (r) return r;
  }
  return null;
}

/** NAME_CONSTRAINTS_check_CN: CNs that look like DNS names, against DNS subtrees. */
export function nameConstraintsCheckCn(x: CertModel, nc: NameConstraints): string | null {
  for (const e of x.subject.entries) {
    if (e.oid !== OID.CN) continue;
    let utf8: Uint8Array;
    try {
      utf8 = toUtf8(e.tag, e.value);
    } catch {
      return 'OUT_OF_MEM'; // ASN1_STRING_to_UTF8 failure
    }
    let len = utf8.length;
    while (len > 0 && utf8[len - 1] === 0) len--;
    const v = utf8.subarray(0, len);
    if (v.includes(0)) return 'UNSUPPORTED_NAME_SYNTAX';
    if (!looksLikeDnsName(v)) continue;
    const r = ncMatch({ type: GEN.DNS, der: v, bytes: v }, nc);
    if (r) return r;
  }
  return null;
}

/** cn2dnsid's test: letters, digits, '_', inner '-' and inner '.' with at least one dot. */
function looksLikeDnsName(v: Uint8Array): boolean {
  let dns = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) continue;
    if (i > 0 && i < v.length - 1) {
      if (c === 0x2d) continue;
      if (c === 0x2e && v[i + 1] !== 0x2e && v[i - 1] !== 0x2d && v[i + 1] !== 0x2d) {
        dns = true;
        continue;
      }
    }
    return false;
  }
  return dns;
}

function minmaxValid(sub: GeneralSubtree): boolean {
  if (sub.maximum) return false;
  if (sub.minimum && sub.minimum.some((b) => b !== 0)) return false;
  return true;
}

function effectiveType(g: GeneralName): number {
  return g.type === GEN.OTHERNAME && g.otherOid === OID.SMTP_UTF8_MAILBOX ? GEN.EMAIL : g.type;
}

function sameSubtreeType(g: GeneralName, eff: number, base: GeneralName): boolean {
  if (eff !== base.type) return false;
  return eff !== GEN.OTHERNAME || g.otherOid === base.otherOid;
}

function ncMatch(g: GeneralName, nc: NameConstraints): string | null {
  const eff = effectiveType(g);
  let match = 0;
  for (const sub of nc.permitted) {
    if (!sameSubtreeType(g, eff, sub.base)) continue;
    if (!minmaxValid(sub)) return 'SUBTREE_MINMAX';
    if (match === 2) continue;
    if (match === 0) match = 1;
    const r = ncMatchSingle(eff, g, sub.base);
    if (r === null) match = 2;
    else if (r !== 'PERMITTED_VIOLATION') return r;
  }
  if (match === 1) return 'PERMITTED_VIOLATION';
  for (const sub of nc.excluded) {
    if (!sameSubtreeType(g, eff, sub.base)) continue;
    if (!minmaxValid(sub)) return 'SUBTREE_MINMAX';
    const r = ncMatchSingle(eff, g, sub.base);
    if (r === null) return 'EXCLUDED_VIOLATION';
    if (r !== 'PERMITTED_VIOLATION') return r;
  }
  return null;
}

function ncMatchSingle(eff: number, g: GeneralName, base: GeneralName): string | null {
  switch (g.type) {
    case GEN.OTHERNAME:
      return eff === GEN.EMAIL ? ncEmailEai(g, base.bytes) : 'UNSUPPORTED_CONSTRAINT_TYPE';
    case GEN.DIRNAME:
      return ncDn(g, base);
    case GEN.DNS:
      return ncDns(g.bytes, base.bytes);
    case GEN.EMAIL:
      return ncEmail(g.bytes, base.bytes);
    case GEN.URI:
      return ncUri(g.bytes, base.bytes);
    case GEN.IPADD:
      return ncIp(g.bytes, base.bytes);
    default:
      return 'UNSUPPORTED_CONSTRAINT_TYPE';
  }
}

function ncDn(g: GeneralName, base: GeneralName): string | null {
  const sub = g.name!.canon;
  const b = base.name!.canon;
  if (b.length > sub.length) return 'PERMITTED_VIOLATION';
  return sub.startsWith(b) ? null : 'PERMITTED_VIOLATION';
}

const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

/** ia5ncasecmp == 0 over `n` octets. */
function caseEq(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (lower(a[ai + k]) !== lower(b[bi + k])) return false;
  return true;
}

function ncDns(dns: Uint8Array, base: Uint8Array): string | null {
  if (base.length === 0) return null;
  if (dns.length < base.length) return 'PERMITTED_VIOLATION';
  let off = 0;
  if (dns.length > base.length) {
    off = dns.length - base.length;
    if (base[0] !== 0x2e && dns[off - 1] !== 0x2e) return 'PERMITTED_VIOLATION';
  }
  return caseEq(base, 0, dns, off, base.length) ? null : 'PERMITTED_VIOLATION';
}

function lastIndex(v: Uint8Array, c: number): number {
  for (let i = v.length - 1; i >= 0; i--) if (v[i] === c) return i;
  return -1;
}

function ncEmail(eml: Uint8Array, base: Uint8Array): string | null {
  const baseAt = lastIndex(base, 0x40);
  const emlAt = lastIndex(eml, 0x40);
  if (emlAt < 0) return 'UNSUPPORTED_NAME_SYNTAX';
  // Special case: initial '.' is an RHS match
  if (baseAt < 0 && base.length > 0 && base[0] === 0x2e) {
    if (eml.length > base.length && caseEq(base, 0, eml, eml.length - base.length, base.length)) return null;
    return 'PERMITTED_VIOLATION';
  }
  let bp = 0;
  if (baseAt >= 0) {
    if (baseAt !== 0) {
      if (baseAt !== emlAt) return 'PERMITTED_VIOLATION';
      if (base.subarray(0, baseAt).includes(0) || eml.subarray(0, emlAt).includes(0)) return 'UNSUPPORTED_NAME_SYNTAX';
      // case-sensitive local part (strncmp stops at a NUL, which was excluded above)
      for (let k = 0; k < emlAt; k++) if (base[k] !== eml[k]) return 'PERMITTED_VIOLATION';
    }
    bp = baseAt + 1;
  }
  const ep = emlAt + 1;
  const baseHost = base.length - bp;
  const emlHost = eml.length - ep;
  if (baseHost !== emlHost || !caseEq(base, bp, eml, ep, emlHost)) return 'PERMITTED_VIOLATION';
  return null;
}

function ncEmailEai(g: GeneralName, base: Uint8Array): string | null {
  if (base.includes(0)) return 'UNSUPPORTED_NAME_SYNTAX';
  if (g.otherValueTag !== TAG.UTF8_STRING) return 'UNSUPPORTED_NAME_SYNTAX';
  const eml = g.otherValue!;
  const at = lastIndex(eml, 0x40);
  if (at < 0) return 'UNSUPPORTED_NAME_SYNTAX';
  const baseText = Buffer.from(base).toString('latin1');
  const ulabel = (s: string) => {
    const u = domainToUnicode(s);
    return u === '' && s !== '' ? undefined : new Uint8Array(Buffer.from(u, 'utf8'));
  };
  if (baseText.startsWith('.')) {
    const u = ulabel(baseText.slice(1));
    if (!u) return 'UNSPECIFIED';
    const want = new Uint8Array([0x2e, ...u]);
    if (eml.length > want.length && caseEq(want, 0, eml, eml.length - want.length, want.length)) return null;
    return 'PERMITTED_VIOLATION';
  }
  const u = ulabel(baseText);
  if (!u) return 'UNSPECIFIED';
  const host = eml.subarray(at + 1);
  return host.length === u.length && caseEq(u, 0, host, 0, host.length) ? null : 'PERMITTED_VIOLATION';
}

function ncUri(uri: Uint8Array, base: Uint8Array): string | null {
  const colon = uri.indexOf(0x3a);
  if (colon < 0 || uri.length - colon < 3 || uri[colon + 1] !== 0x2f || uri[colon + 2] !== 0x2f) return 'UNSUPPORTED_NAME_SYNTAX';
  const host = colon + 3;
  let end = uri.indexOf(0x3a, host);
  if (end < 0) end = uri.indexOf(0x2f, host);
  const hostLen = (end < 0 ? uri.length : end) - host;
  if (hostLen === 0) return 'UNSUPPORTED_NAME_SYNTAX';
  if (base.length > 0 && base[0] === 0x2e) {
    if (hostLen > base.length && caseEq(uri, host + hostLen - base.length, base, 0, base.length)) return null;
    return 'PERMITTED_VIOLATION';
  }
  if (base.length !== hostLen || !caseEq(uri, host, base, 0, hostLen)) return 'PERMITTED_VIOLATION';
  return null;
}

function ncIp(ip: Uint8Array, base: Uint8Array): string | null {
  if (ip.length !== 4 && ip.length !== 16) return 'UNSUPPORTED_NAME_SYNTAX';
  if (base.length !== 8 && base.length !== 32) return 'UNSUPPORTED_NAME_SYNTAX';
  if (ip.length * 2 !== base.length) return 'PERMITTED_VIOLATION';
  for (let i = 0; i < ip.length; i++) {
    const mask = base[ip.length + i];
    if ((ip[i] & mask) !== (base[i] & mask)) return 'PERMITTED_VIOLATION';
  }
  return null;
}
