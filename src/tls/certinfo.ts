// Certificate → plain data: names (ordered RDNs + RFC 4514 string + easy fields), SANs by kind,
// serial, validity, fingerprints, key, usages. Parsed by walking the DER directly (der.ts): no
// object model and no OpenSSL key decoding, which is what made this cost milliseconds (OpenSSL 3.0
// decodes public keys through its slow decoder framework). Anything the walk refuses goes to the
// @peculiar/asn1-x509 parser (certinfo-asn1.ts) before being declared unparseable. Results are
// cached by the DER itself, since CA certificates and returning peers recur.
import { createHash } from 'node:crypto';
import { readTlv, expectTlv, children, value, whole, oidString, timeValue, stringValue, TAG, type Tlv } from './der.js';
import { ATTR_NAMES, EASY_FIELDS, EKU_NAMES, KU_NAMES, OID_SAN, OID_KU, OID_EKU, OID_BC, OID_SKI, OID_AKI, OID_AIA, serialHex, rfc3339, escape4514 } from './certfields.js';
import { parseWithAsn1 } from './certinfo-asn1.js';

export { serialHex, escape4514 } from './certfields.js';
export { nameInfo } from './certinfo-asn1.js';

export interface RdnAttribute {
  type: string;
  oid: string;
  value: string;
}

export interface NameInfo {
  /** RFC 4514 string: most specific RDN first, e.g. `CN=sbc.atlanta.example,O=FedA`. */
  string: string;
  /** Attributes in certificate (DER) order, i.e. least specific first. */
  rdns: RdnAttribute[];
  cn?: string;
  o?: string;
  ou?: string;
  c?: string;
  l?: string;
  st?: string;
  email_address?: string;
}

export interface SanInfo {
  dns: string[];
  uri: string[];
  /** URI SANs with scheme sip: or sips: (also listed in `uri`). */
  sip_uris: string[];
  email: string[];
  ip: string[];
}

export interface Fingerprints {
  sha1: string;
  sha256: string;
}

export interface KeyInfo {
  type: string;
  bits?: number;
  curve?: string;
}

export interface CertInfo {
  subject: NameInfo;
  issuer: NameInfo;
  san: SanInfo;
  serial: string;
  not_before: string;
  not_after: string;
  fingerprint: Fingerprints;
  key: KeyInfo;
  key_usage: string[];
  ext_key_usage: string[];
  is_ca: boolean;
  self_issued: boolean;
  /** Subject / authority key identifiers, hex (internal: issuer matching). */
  ski?: string;
  aki?: string;
  /** OCSP responder URLs from the AIA extension (internal). */
  ocsp_urls?: string[];
}

/** Summary used for each element of `chain`. */
export type CertSummary = Pick<CertInfo, 'subject' | 'issuer' | 'serial' | 'not_before' | 'not_after' | 'fingerprint' | 'key' | 'is_ca'>;

export class CertParseError extends Error {
  constructor(reason: string) {
    super(`cannot parse certificate: ${reason}`);
    this.name = 'CertParseError';
  }
}

const cache = new Map<string, CertInfo>();
const CACHE_MAX = 2048;

/** Parses a DER certificate. Throws CertParseError on malformed input. */
export function certInfo(der: Uint8Array): CertInfo {
  // Keyed by the DER itself (as a byte string): no hashing on a hit, which is the common case.
  const key = latin1(der);
  const hit = cache.get(key);
  if (hit) return hit;
  const sha256 = createHash('sha256').update(der).digest('hex');
  let info: CertInfo;
  try {
    info = parseDer(der, sha256);
  } catch {
    try {
      info = parseWithAsn1(der, sha256);
    } catch (e) {
      throw e instanceof CertParseError ? e : new CertParseError((e as Error).message);
    }
  }
  // Shared by every connection presenting this certificate: frozen, so no consumer can alter
  // what another connection's identity document says.
  deepFreeze(info);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, info);
  return info;
}

function deepFreeze(o: object): void {
  if (Object.isFrozen(o)) return;
  Object.freeze(o);
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') deepFreeze(v as object);
}

/** Empties the parse cache (benchmarks measure cold parsing with it). */
export function clearCertInfoCache(): void {
  cache.clear();
}

export function summarize(c: CertInfo): CertSummary {
  return {
    subject: c.subject,
    issuer: c.issuer,
    serial: c.serial,
    not_before: c.not_before,
    not_after: c.not_after,
    fingerprint: c.fingerprint,
    key: c.key,
    is_ca: c.is_ca,
  };
}

/** The fast path: a direct DER walk. Throws on anything unexpected (the caller falls back). */
export function parseDer(der: Uint8Array, sha256: string): CertInfo {
  const cert = expectTlv(der, 0, der.length, TAG.SEQUENCE, 'Certificate');
  if (cert.end !== der.length) throw new Error('trailing bytes after the certificate');
  const tbs = expectTlv(der, cert.valueStart, cert.end, TAG.SEQUENCE, 'TBSCertificate');
  const f = children(der, tbs);
  let i = 0;
  if (f[i]?.tag === 0xa0) i++; // [0] version
  const serialT = f[i++];
  if (serialT?.tag !== TAG.INTEGER || serialT.end === serialT.valueStart) throw new Error('bad serial');
  i++; // signature AlgorithmIdentifier
  const issuerT = f[i++];
  const validityT = f[i++];
  const subjectT = f[i++];
  const spkiT = f[i++];
  if (!issuerT || !validityT || !subjectT || !spkiT || validityT.tag !== TAG.SEQUENCE || spkiT.tag !== TAG.SEQUENCE) throw new Error('truncated TBSCertificate');
  const [nb, na] = children(der, validityT);
  if (!nb || !na) throw new Error('bad validity');
  const subject = nameFromDer(der, subjectT);
  const issuer = nameFromDer(der, issuerT);
  const info: CertInfo = {
    subject,
    issuer,
    san: { dns: [], uri: [], sip_uris: [], email: [], ip: [] },
    serial: serialHex(value(der, serialT)),
    not_before: rfc3339(timeValue(der, nb)),
    not_after: rfc3339(timeValue(der, na)),
    fingerprint: { sha1: createHash('sha1').update(der).digest('hex'), sha256 },
    key: keyFromSpki(der, spkiT),
    key_usage: [],
    ext_key_usage: [],
    is_ca: false,
    self_issued: subject.string === issuer.string,
  };
  for (; i < f.length; i++) if (f[i].tag === 0xa3) extensions(der, expectTlv(der, f[i].valueStart, f[i].end, TAG.SEQUENCE, 'Extensions'), info);
  return info;
}

function extensions(der: Uint8Array, seq: Tlv, info: CertInfo): void {
  for (const ext of children(der, seq)) {
    const parts = children(der, ext);
    const oid = oidString(der, parts[0]);
    let k = 1;
    let critical = false;
    if (parts[k]?.tag === TAG.BOOLEAN) critical = der[parts[k++].valueStart] !== 0;
    const octets = parts[k];
    if (octets?.tag !== TAG.OCTET_STRING) throw new Error('extension without a value');
    const inner = () => readTlv(der, octets.valueStart, octets.end);
    switch (oid) {
      case OID_SAN:
        for (const gn of children(der, inner())) generalName(der, gn, info);
        break;
      case OID_KU: {
        const bits = value(der, inner());
        // BIT STRING: first octet = unused bits; named bit n is bit (7 - n % 8) of octet 1 + n / 8.
        info.key_usage = KU_NAMES.filter((_, n) => 1 + (n >> 3) < bits.length && bits[1 + (n >> 3)] & (0x80 >> (n & 7)));
        break;
      }
      case OID_EKU:
        info.ext_key_usage = children(der, inner()).map((t) => {
          const o = oidString(der, t);
          return EKU_NAMES[o] ?? o;
        });
        break;
      case OID_BC: {
        const first = children(der, inner())[0];
        info.is_ca = first?.tag === TAG.BOOLEAN && der[first.valueStart] !== 0;
        break;
      }
      case OID_SKI:
        info.ski = hex(value(der, inner()));
        break;
      case OID_AKI: {
        const id = children(der, inner()).find((t) => t.tag === 0x80);
        if (id) info.aki = hex(value(der, id));
        break;
      }
      case OID_AIA:
        for (const ad of children(der, inner())) {
          const [method, loc] = children(der, ad);
          if (method && loc?.tag === 0x86 && oidString(der, method) === '1.3.6.1.5.5.7.48.1') {
            (info.ocsp_urls ??= []).push(latin1(value(der, loc)));
          }
        }
        break;
    }
  }
}

function generalName(der: Uint8Array, gn: Tlv, info: CertInfo): void {
  const v = value(der, gn);
  switch (gn.tag) {
    case 0x81: // rfc822Name
      info.san.email.push(latin1(v));
      break;
    case 0x82: // dNSName
      info.san.dns.push(latin1(v));
      break;
    case 0x86: {
      // uniformResourceIdentifier
      const uri = latin1(v);
      info.san.uri.push(uri);
      if (/^sips?:/i.test(uri)) info.san.sip_uris.push(uri);
      break;
    }
    case 0x87: // iPAddress
      info.san.ip.push(ipString(v));
      break;
    default:
      // otherName, x400Address, directoryName, ediPartyName, registeredID: not part of the
      // document; anything that is not a GeneralName at all makes the SAN unreadable
      if ((gn.tag & 0xc0) !== 0x80 || (gn.tag & 0x1f) > 8) throw new Error('SubjectAltName holds something that is not a GeneralName');
  }
}

const nameCache = new Map<string, NameInfo>();

/** A Name (SEQUENCE OF RDN) as NameInfo. Issuers recur constantly: cached by their DER. */
function nameFromDer(der: Uint8Array, t: Tlv): NameInfo {
  if (t.tag !== TAG.SEQUENCE) throw new Error('Name is not a SEQUENCE');
  const key = latin1(whole(der, t));
  const hit = nameCache.get(key);
  if (hit) return hit;
  const rdns: RdnAttribute[] = [];
  const groups: string[] = [];
  const easy: Record<string, string> = {};
  for (const set of children(der, t)) {
    if (set.tag !== TAG.SET) throw new Error('RDN is not a SET');
    const parts: string[] = [];
    for (const atv of children(der, set)) {
      const [typeT, valT] = children(der, atv);
      if (!typeT || !valT) throw new Error('bad AttributeTypeAndValue');
      const oid = oidString(der, typeT);
      const type = ATTR_NAMES[oid] ?? oid;
      const s = stringValue(der, valT);
      const v = s ?? '#' + hex(whole(der, valT));
      rdns.push({ type, oid, value: v });
      parts.push(`${type}=${s === undefined ? v : escape4514(v)}`);
      const field = EASY_FIELDS[type];
      // The last (most specific) occurrence wins, as in OpenSSL's CN lookup.
      if (field) easy[field] = v;
    }
    groups.push(parts.join('+'));
  }
  const info = { string: groups.reverse().join(','), rdns, ...easy } as NameInfo;
  if (nameCache.size >= CACHE_MAX) nameCache.clear();
  nameCache.set(key, info);
  return info;
}

const CURVES: Record<string, [string, number]> = {
  '1.2.840.10045.3.1.7': ['prime256v1', 256],
  '1.3.132.0.34': ['secp384r1', 384],
  '1.3.132.0.35': ['secp521r1', 521],
  '1.3.132.0.10': ['secp256k1', 256],
};

/** Key type and size from the SubjectPublicKeyInfo, named as node:crypto names them. */
function keyFromSpki(der: Uint8Array, spki: Tlv): KeyInfo {
  const [alg, bits] = children(der, spki);
  const [oidT, params] = children(der, alg);
  const oid = oidString(der, oidT);
  switch (oid) {
    case '1.2.840.113549.1.1.1': // rsaEncryption
    case '1.2.840.113549.1.1.10': {
      // rsassa-pss: BIT STRING { SEQUENCE { modulus INTEGER, exponent INTEGER } }
      const rsa = readTlv(der, bits.valueStart + 1, bits.end);
      const modulus = value(der, children(der, rsa)[0]);
      let j = 0;
      while (j < modulus.length && modulus[j] === 0) j++;
      const size = modulus.length - j === 0 ? 0 : (modulus.length - j - 1) * 8 + (32 - Math.clz32(modulus[j]));
      return { type: oid.endsWith('.1') ? 'rsa' : 'rsa-pss', bits: size };
    }
    case '1.2.840.10045.2.1': {
      // id-ecPublicKey with a named curve
      const curve = params?.tag === TAG.OID ? CURVES[oidString(der, params)] : undefined;
      if (!curve) throw new Error('EC key on a curve the fast path does not name');
      return { type: 'ec', bits: curve[1], curve: curve[0] };
    }
    case '1.3.101.112':
      return { type: 'ed25519', bits: 256 };
    case '1.3.101.113':
      return { type: 'ed448', bits: 456 };
    default:
      throw new Error(`key algorithm ${oid} left to node:crypto`);
  }
}

/** IPv4 dotted, IPv6 in RFC 5952 form; any other length as hex. */
function ipString(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) return hex(b);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // the WHATWG URL serializer writes IPv6 hosts as RFC 5952 does (lower case, the first longest
  // run of two or more zero groups as ::)
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
