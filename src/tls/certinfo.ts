// Certificate → plain data: names (ordered RDNs + RFC 4514 string + easy fields), SANs by kind,
// serial, validity, fingerprints, key, usages. Parsed with @peculiar/asn1-x509 (tolerant of
// odd content: unknown attribute types become `#hex`, unknown SAN kinds are skipped), keys and
// hashes with node:crypto. Results are cached by SHA-256, since CA certificates recur in chains.
import { createHash, createPublicKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate,
  SubjectAlternativeName,
  KeyUsage,
  ExtendedKeyUsage,
  BasicConstraints,
  type Name as AsnName,
  type AttributeValue,
  type Time,
} from '@peculiar/asn1-x509';

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
  /** Has a critical extension OpenSSL does not handle (internal; not part of the document). */
  unhandled_critical: boolean;
}

/** Summary used for each element of `chain`. */
export type CertSummary = Pick<CertInfo, 'subject' | 'issuer' | 'serial' | 'not_before' | 'not_after' | 'fingerprint' | 'key' | 'is_ca'>;

const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.46': 'dnQualifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
};

const EASY_FIELDS: Record<string, keyof NameInfo> = {
  CN: 'cn',
  O: 'o',
  OU: 'ou',
  C: 'c',
  L: 'l',
  ST: 'st',
  emailAddress: 'email_address',
};

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '1.3.6.1.5.5.7.3.20': 'sipDomain',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const KU_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

// Extensions OpenSSL's verifier understands when critical.
const HANDLED_CRITICAL = new Set(['2.5.29.15', '2.5.29.17', '2.5.29.18', '2.5.29.19', '2.5.29.30', '2.5.29.32', '2.5.29.33', '2.5.29.36', '2.5.29.37', '2.5.29.54', '2.5.29.14', '2.5.29.35', '1.3.6.1.5.5.7.1.1', '2.5.29.31']);
const OID_SAN = '2.5.29.17';
const OID_KU = '2.5.29.15';
const OID_EKU = '2.5.29.37';
const OID_BC = '2.5.29.19';

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
  const sha256 = createHash('sha256').update(der).digest('hex');
  const hit = cache.get(sha256);
  if (hit) return hit;
  let info: CertInfo;
  try {
    info = parse(der, sha256);
  } catch (e) {
    throw e instanceof CertParseError ? e : new CertParseError((e as Error).message);
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(sha256, info);
  return info;
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

function parse(der: Uint8Array, sha256: string): CertInfo {
  const asn = AsnConvert.parse(der, Certificate);
  const tbs = asn.tbsCertificate;
  const subject = nameInfo(tbs.subject);
  const issuer = nameInfo(tbs.issuer);
  const san: SanInfo = { dns: [], uri: [], sip_uris: [], email: [], ip: [] };
  let keyUsage: string[] = [];
  let extKeyUsage: string[] = [];
  let isCa = false;
  let unhandledCritical = false;
  for (const ext of tbs.extensions ?? []) {
    const value = ext.extnValue.buffer;
    if (ext.critical && !HANDLED_CRITICAL.has(ext.extnID)) unhandledCritical = true;
    if (ext.extnID === OID_SAN) {
      for (const gn of AsnConvert.parse(value, SubjectAlternativeName)) {
        if (gn.dNSName !== undefined) san.dns.push(gn.dNSName);
        else if (gn.uniformResourceIdentifier !== undefined) {
          san.uri.push(gn.uniformResourceIdentifier);
          if (/^sips?:/i.test(gn.uniformResourceIdentifier)) san.sip_uris.push(gn.uniformResourceIdentifier);
        } else if (gn.rfc822Name !== undefined) san.email.push(gn.rfc822Name);
        else if (gn.iPAddress !== undefined) san.ip.push(gn.iPAddress);
      }
    } else if (ext.extnID === OID_KU) {
      const bits = AsnConvert.parse(value, KeyUsage).toNumber();
      keyUsage = KU_NAMES.filter((_, i) => bits & (1 << i));
    } else if (ext.extnID === OID_EKU) {
      extKeyUsage = AsnConvert.parse(value, ExtendedKeyUsage).map((oid) => EKU_NAMES[oid] ?? oid);
    } else if (ext.extnID === OID_BC) {
      isCa = AsnConvert.parse(value, BasicConstraints).cA === true;
    }
  }
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  return {
    subject,
    issuer,
    san,
    serial: serialHex(new Uint8Array(tbs.serialNumber)),
    not_before: rfc3339(tbs.validity.notBefore),
    not_after: rfc3339(tbs.validity.notAfter),
    fingerprint: { sha1: createHash('sha1').update(buf).digest('hex'), sha256 },
    key: keyInfo(AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
    key_usage: keyUsage,
    ext_key_usage: extKeyUsage,
    is_ca: isCa,
    self_issued: subject.string === issuer.string,
    unhandled_critical: unhandledCritical,
  };
}

/** Hex of the DER INTEGER body, lower case, without the sign-padding zero byte. */
export function serialHex(bytes: Uint8Array): string {
  const b = bytes.length > 1 && bytes[0] === 0 && bytes[1] > 0x7f ? bytes.subarray(1) : bytes;
  return Buffer.from(b).toString('hex');
}

function rfc3339(t: Time): string {
  return t.getTime().toISOString().replace(/\.000Z$/, 'Z');
}

function keyInfo(spki: ArrayBuffer): KeyInfo {
  try {
    const k = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    const d = k.asymmetricKeyDetails ?? {};
    const type = k.asymmetricKeyType ?? 'unknown';
    if (type === 'ec') {
      const curve = d.namedCurve ?? 'unknown';
      const bits = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 }[curve];
      return bits ? { type, bits, curve } : { type, curve };
    }
    if (type === 'ed25519') return { type, bits: 256 };
    if (type === 'ed448') return { type, bits: 456 };
    return d.modulusLength ? { type, bits: d.modulusLength } : { type };
  } catch {
    return { type: 'unknown' };
  }
}

export function nameInfo(name: AsnName): NameInfo {
  const rdns: RdnAttribute[] = [];
  const groups: string[] = [];
  const info: Partial<NameInfo> = {};
  for (const rdn of name) {
    const parts: string[] = [];
    for (const atv of rdn) {
      const type = ATTR_NAMES[atv.type] ?? atv.type;
      const value = attrValue(atv.value);
      rdns.push({ type, oid: atv.type, value });
      parts.push(`${type}=${value.startsWith('#') && isHexForm(atv.value) ? value : escape4514(value)}`);
      const easy = EASY_FIELDS[type];
      // The last (most specific) occurrence wins, as in OpenSSL's CN lookup.
      if (easy) (info as Record<string, string>)[easy] = value;
    }
    groups.push(parts.join('+'));
  }
  return { string: groups.reverse().join(','), rdns, ...info };
}

function isHexForm(v: AttributeValue): boolean {
  return v.anyValue !== undefined;
}

function attrValue(v: AttributeValue): string {
  const s = v.utf8String ?? v.printableString ?? v.ia5String ?? v.teletexString ?? v.bmpString ?? v.universalString;
  if (s !== undefined) return s;
  if (v.anyValue) return '#' + Buffer.from(v.anyValue).toString('hex');
  return '';
}

/** RFC 4514 section 2.4 escaping. */
export function escape4514(v: string): string {
  let out = v.replace(/[\\"+,;<>]/g, (c) => '\\' + c).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  if (out.endsWith(' ') && out.length > 1) out = out.slice(0, -1) + '\\ ';
  return out;
}
