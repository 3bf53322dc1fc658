// The @peculiar/asn1-x509 certificate parser: slower than certinfo.ts's own DER walk (object model,
// public key through node:crypto), kept as the fallback for anything the fast walk refuses and as
// the oracle the fast walk is tested against (certinfo.test.ts).
import { createHash, createPublicKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate,
  SubjectAlternativeName,
  KeyUsage,
  ExtendedKeyUsage,
  BasicConstraints,
  AuthorityKeyIdentifier,
  SubjectKeyIdentifier,
  type Name as AsnName,
  type AttributeValue,
} from '@peculiar/asn1-x509';
import type { CertInfo, KeyInfo, NameInfo, RdnAttribute, SanInfo } from './certinfo.js';
import { ATTR_NAMES, EASY_FIELDS, EKU_NAMES, KU_NAMES, OID_SAN, OID_KU, OID_EKU, OID_BC, OID_SKI, OID_AKI, serialHex, rfc3339, escape4514 } from './certfields.js';

export function parseWithAsn1(der: Uint8Array, sha256: string): CertInfo {
  const asn = AsnConvert.parse(der, Certificate);
  const tbs = asn.tbsCertificate;
  const subject = nameInfo(tbs.subject);
  const issuer = nameInfo(tbs.issuer);
  const san: SanInfo = { dns: [], uri: [], sip_uris: [], email: [], ip: [] };
  let keyUsage: string[] = [];
  let extKeyUsage: string[] = [];
  let isCa = false;
  let ski: string | undefined;
  let aki: string | undefined;
  for (const ext of tbs.extensions ?? []) {
    const value = ext.extnValue.buffer;
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
    } else if (ext.extnID === OID_SKI) {
      ski = Buffer.from(AsnConvert.parse(value, SubjectKeyIdentifier).buffer).toString('hex');
    } else if (ext.extnID === OID_AKI) {
      const id = AsnConvert.parse(value, AuthorityKeyIdentifier).keyIdentifier;
      if (id) aki = Buffer.from(id.buffer).toString('hex');
    }
  }
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const info: CertInfo = {
    subject,
    issuer,
    san,
    serial: serialHex(new Uint8Array(tbs.serialNumber)),
    not_before: rfc3339(tbs.validity.notBefore.getTime()),
    not_after: rfc3339(tbs.validity.notAfter.getTime()),
    fingerprint: { sha1: createHash('sha1').update(buf).digest('hex'), sha256 },
    key: keyInfo(AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
    key_usage: keyUsage,
    ext_key_usage: extKeyUsage,
    is_ca: isCa,
    self_issued: subject.string === issuer.string,
  };
  if (ski !== undefined) info.ski = ski;
  if (aki !== undefined) info.aki = aki;
  return info;
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
      parts.push(`${type}=${value.startsWith('#') && atv.value.anyValue !== undefined ? value : escape4514(value)}`);
      const easy = EASY_FIELDS[type];
      // The last (most specific) occurrence wins, as in OpenSSL's CN lookup.
      if (easy) (info as Record<string, string>)[easy] = value;
    }
    groups.push(parts.join('+'));
  }
  return { string: groups.reverse().join(','), rdns, ...info };
}

function attrValue(v: AttributeValue): string {
  const s = v.utf8String ?? v.printableString ?? v.ia5String ?? v.teletexString ?? v.bmpString ?? v.universalString;
  if (s !== undefined) return s;
  if (v.anyValue) return '#' + Buffer.from(v.anyValue).toString('hex');
  return '';
}
