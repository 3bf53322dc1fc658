// A certificate as OpenSSL's verifier sees it: the TBS and signature for X509_verify, the names in
// canonical form, the key type and strength, and the extension cache OpenSSL fills in
// ossl_x509v3_cache_extensions (crypto/x509/v3_purp.c): basic constraints, key usages, key
// identifiers, SANs, name constraints, CRL distribution points, the self-issued / self-signed flags,
// "invalid" (a used extension that cannot be decoded) and "critical" (a critical extension the
// verifier does not handle).
//
// One deliberate difference: OpenSSL only refuses duplicates of the extensions it uses; here any
// duplicated extension makes the certificate invalid (RFC 5280 4.2: a certificate MUST NOT include
// more than one instance of a particular extension), which can only make a verdict stricter.
//
// The outer structure (Certificate, TBSCertificate, names, validity, key) must parse, or
// parseCertificate throws CertModelError: such a certificate is CERT_UNPARSEABLE.
import { createHash } from 'node:crypto';
import { readTlv, children, oidString, TAG, type Tlv } from '../der.js';
import { parseName, type Name } from './names.js';
import { sigAlgOf, algorithm } from './sigalg.js';

/** Certificates larger than this are refused (OpenSSL refuses a whole certificate list over 100 KiB in TLS). */
export const MAX_CERT_BYTES = 100 * 1024;

export class CertModelError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CertModelError';
  }
}

// GeneralName CHOICE numbers (GEN_* in OpenSSL)
export const GEN = { OTHERNAME: 0, EMAIL: 1, DNS: 2, X400: 3, DIRNAME: 4, EDIPARTY: 5, URI: 6, IPADD: 7, RID: 8 } as const;

export interface GeneralName {
  type: number;
  /** The whole GeneralName TLV (GENERAL_NAME_cmp compares these). */
  der: Uint8Array;
  /** Content octets: IA5String text, IP octets, OID body... */
  bytes: Uint8Array;
  /** directoryName */
  name?: Name;
  /** otherName type-id and the tag/content of its value */
  otherOid?: string;
  otherValueTag?: number;
  otherValue?: Uint8Array;
}

export interface GeneralSubtree {
  base: GeneralName;
  minimum?: Uint8Array;
  maximum?: Uint8Array;
}

export interface NameConstraints {
  permitted: GeneralSubtree[];
  excluded: GeneralSubtree[];
}

export interface AuthorityKeyId {
  keyid?: Uint8Array;
  issuer?: GeneralName[];
  serial?: Uint8Array;
}

export interface DistPointName {
  full?: GeneralName[];
  /** nameRelativeToCRLIssuer, made absolute against the CRL issuer (DIST_POINT_set_dpname). */
  relativeCanon?: string;
}

export interface DistPoint {
  name?: DistPointName;
  reasons: number;
  crlIssuer?: GeneralName[];
}

export interface CertTime {
  /** Milliseconds since the epoch; NaN when the field is malformed. */
  ms: number;
  /** Meets X509_cmp_time's format rule (YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ, valid date). */
  wellFormed: boolean;
}

export type KeyAlg = 'RSA' | 'RSA-PSS' | 'EC' | 'ED25519' | 'ED448' | 'DSA';

export interface KeyModel {
  /** null: a key OpenSSL cannot decode (X509_get0_pubkey() == NULL). */
  alg: KeyAlg | null;
  securityBits: number;
  explicitCurve: boolean;
}

export interface SigAlg {
  /** Key type the signature needs (check_sig_alg_match); null: unknown algorithm. */
  keyAlg: 'RSA' | 'EC' | 'ED25519' | 'ED448' | 'DSA' | null;
  pss: boolean;
  hash: string | null;
  securityBits: number;
}

export interface Signed {
  /** The signed bytes (TBSCertificate / TBSCertList). */
  tbs: Uint8Array;
  /** AlgorithmIdentifier TLVs: inside the TBS and outside it (X509_verify requires them equal). */
  tbsSigAlg: Uint8Array;
  outerSigAlg: Uint8Array;
  sigAlg: SigAlg;
  sigParams?: Uint8Array;
  signature: Uint8Array | null;
  /** A key for the verdict cache (the object's SHA-256). */
  sha256: string;
}

/** The signed object's parts (certificate or CRL): TBS, both algorithm fields, the signature, its hash. */
export function signedParts(der: Uint8Array, tbsT: Tlv, tbsAlgT: Tlv, algT: Tlv, sigT: Tlv): Signed {
  const sigBits = der.subarray(sigT.valueStart, sigT.end);
  const { sigAlg, params } = sigAlgOf(der, tbsAlgT);
  return {
    sha256: createHash('sha256').update(der).digest('hex'),
    tbs: der.subarray(tbsT.start, tbsT.end),
    tbsSigAlg: der.subarray(tbsAlgT.start, tbsAlgT.end),
    outerSigAlg: der.subarray(algT.start, algT.end),
    sigAlg,
    ...(params ? { sigParams: der.subarray(params.start, params.end) } : {}),
    // a BIT STRING with unused bits is no signature
    signature: sigBits.length >= 1 && sigBits[0] === 0 ? sigBits.subarray(1) : null,
  };
}

export interface CertModel extends Signed {
  der: Uint8Array;
  version: number;
  serial: Uint8Array;
  issuer: Name;
  subject: Name;
  notBefore: CertTime;
  notAfter: CertTime;
  spki: Uint8Array;
  key: KeyModel;
  // --- extension cache ---
  invalid: boolean;
  /** A critical extension OpenSSL's verifier does not handle. */
  critical: boolean;
  bcons: boolean;
  ca: boolean;
  pathlen: number;
  proxy: boolean;
  /** undefined: extension absent */
  kusage?: number;
  xkusage?: number;
  nscert?: number;
  skid?: Uint8Array;
  akid?: AuthorityKeyId;
  altnames?: GeneralName[];
  nc?: NameConstraints;
  crldp?: DistPoint[];
  selfIssued: boolean;
  selfSigned: boolean;
}

// Key usage bits as OpenSSL keeps them (first octet, second octet << 8)
export const KU = {
  DIGITAL_SIGNATURE: 0x0080,
  NON_REPUDIATION: 0x0040,
  KEY_ENCIPHERMENT: 0x0020,
  DATA_ENCIPHERMENT: 0x0010,
  KEY_AGREEMENT: 0x0008,
  KEY_CERT_SIGN: 0x0004,
  CRL_SIGN: 0x0002,
  ENCIPHER_ONLY: 0x0001,
  DECIPHER_ONLY: 0x8000,
} as const;

export const XKU = { SSL_SERVER: 0x1, SSL_CLIENT: 0x2, SMIME: 0x4, CODE_SIGN: 0x8, SGC: 0x10, OCSP_SIGN: 0x20, TIMESTAMP: 0x40, DVCS: 0x80, ANYEKU: 0x100 } as const;
export const NS = { SSL_CLIENT: 0x80, SSL_SERVER: 0x40, SMIME: 0x20, OBJSIGN: 0x10, SSL_CA: 0x04, SMIME_CA: 0x02, OBJSIGN_CA: 0x01, ANY_CA: 0x07 } as const;
export const CRLDP_ALL_REASONS = 0x807f;

const XKU_BY_OID: Record<string, number> = {
  '1.3.6.1.5.5.7.3.1': XKU.SSL_SERVER,
  '1.3.6.1.5.5.7.3.2': XKU.SSL_CLIENT,
  '1.3.6.1.5.5.7.3.4': XKU.SMIME,
  '1.3.6.1.5.5.7.3.3': XKU.CODE_SIGN,
  '1.3.6.1.4.1.311.10.3.3': XKU.SGC,
  '2.16.840.1.113730.4.1': XKU.SGC,
  '1.3.6.1.5.5.7.3.9': XKU.OCSP_SIGN,
  '1.3.6.1.5.5.7.3.8': XKU.TIMESTAMP,
  '1.3.6.1.5.5.7.3.10': XKU.DVCS,
  '2.5.29.37.0': XKU.ANYEKU,
};

export const OID = {
  BC: '2.5.29.19',
  KU: '2.5.29.15',
  EKU: '2.5.29.37',
  NSCERT: '2.16.840.1.113730.1.1',
  SKI: '2.5.29.14',
  AKI: '2.5.29.35',
  SAN: '2.5.29.17',
  IAN: '2.5.29.18',
  NC: '2.5.29.30',
  CRLDP: '2.5.29.31',
  PROXY: '1.3.6.1.5.5.7.1.14',
  FRESHEST: '2.5.29.46',
  EMAIL_ADDRESS: '1.2.840.113549.1.9.1',
  CN: '2.5.4.3',
  SMTP_UTF8_MAILBOX: '1.3.6.1.5.5.7.8.9',
} as const;

// X509_supported_extension(): the extensions the verifier handles when critical.
const SUPPORTED_CRITICAL = new Set([
  OID.NSCERT,
  OID.KU,
  OID.SAN,
  OID.BC,
  '2.5.29.32', // certificate policies
  OID.CRLDP,
  OID.EKU,
  '1.3.6.1.5.5.7.1.7', // RFC 3779 IP address blocks
  '1.3.6.1.5.5.7.1.8', // RFC 3779 AS identifiers
  '1.3.6.1.5.5.7.48.1.5', // OCSP no check
  '2.5.29.36', // policy constraints
  OID.PROXY,
  OID.NC,
  '2.5.29.33', // policy mappings
  '2.5.29.54', // inhibit any policy
]);

const CURVE_BITS: Record<string, number> = {
  '1.2.840.10045.3.1.7': 256, // P-256
  '1.3.132.0.34': 384, // P-384
  '1.3.132.0.35': 521, // P-521
  '1.3.132.0.33': 224, // P-224
  '1.2.840.10045.3.1.1': 192, // P-192
  '1.3.132.0.10': 256, // secp256k1
  '1.3.36.3.3.2.8.1.1.7': 256, // brainpoolP256r1
  '1.3.36.3.3.2.8.1.1.11': 384, // brainpoolP384r1
  '1.3.36.3.3.2.8.1.1.13': 512, // brainpoolP512r1
};

const cache = new Map<string, CertModel>();
const CACHE_MAX = 2048;

/** The model of a DER certificate (cached by its bytes). Throws CertModelError when unparseable. */
export function parseCertificate(der: Uint8Array): CertModel {
  if (der.length > MAX_CERT_BYTES) throw new CertModelError(`certificate of ${der.length} bytes (more than ${MAX_CERT_BYTES})`);
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
  const hit = cache.get(key);
  if (hit) return hit;
  let model: CertModel;
  try {
    model = parse(new Uint8Array(der));
  } catch (e) {
    throw e instanceof CertModelError ? e : new CertModelError((e as Error).message);
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, model);
  return model;
}

function parse(der: Uint8Array): CertModel {
  const cert = readTlv(der, 0);
  if (cert.tag !== TAG.SEQUENCE || cert.end !== der.length) throw new CertModelError('not a single DER Certificate');
  const [tbsT, algT, sigT, ...rest] = children(der, cert);
  if (!tbsT || !algT || !sigT || rest.length || tbsT.tag !== TAG.SEQUENCE || algT.tag !== TAG.SEQUENCE || sigT.tag !== TAG.BIT_STRING) throw new CertModelError('bad Certificate structure');
  const f = children(der, tbsT);
  let i = 0;
  let version = 0;
  if (f[i]?.tag === 0xa0) {
    const v = readTlv(der, f[i].valueStart, f[i].end);
    if (v.tag !== TAG.INTEGER || v.end - v.valueStart !== 1) throw new CertModelError('bad version');
    version = der[v.valueStart];
    i++;
  }
  const serialT = f[i++];
  const tbsAlgT = f[i++];
  const issuerT = f[i++];
  const validityT = f[i++];
  const subjectT = f[i++];
  const spkiT = f[i++];
  if (serialT?.tag !== TAG.INTEGER || serialT.end === serialT.valueStart) throw new CertModelError('bad serial number');
  if (tbsAlgT?.tag !== TAG.SEQUENCE || !issuerT || validityT?.tag !== TAG.SEQUENCE || !subjectT || spkiT?.tag !== TAG.SEQUENCE) throw new CertModelError('truncated TBSCertificate');
  const [nb, na, ...vrest] = children(der, validityT);
  if (!nb || !na || vrest.length) throw new CertModelError('bad validity');
  const model: CertModel = {
    der,
    ...signedParts(der, tbsT, tbsAlgT, algT, sigT),
    version,
    serial: der.slice(serialT.valueStart, serialT.end),
    issuer: parseName(der, issuerT),
    subject: parseName(der, subjectT),
    notBefore: certTime(der, nb),
    notAfter: certTime(der, na),
    spki: der.subarray(spkiT.start, spkiT.end),
    key: keyModel(der, spkiT),
    invalid: false,
    critical: false,
    bcons: false,
    ca: false,
    pathlen: -1,
    proxy: false,
    selfIssued: false,
    selfSigned: false,
  };
  for (; i < f.length; i++) {
    if (f[i].tag === 0xa3) extensions(der, readTlv(der, f[i].valueStart, f[i].end), model);
    else if (f[i].tag !== 0x81 && f[i].tag !== 0x82) throw new CertModelError(`unexpected TBSCertificate field (tag 0x${f[i].tag.toString(16)})`);
  }
  model.selfIssued = model.subject.canon === model.issuer.canon;
  model.selfSigned = model.selfIssued && checkAkid(model, model.akid) === null && sigAlgMatch(model.key, model) === null;
  return model;
}

interface RawExtension {
  oid: string;
  critical: boolean;
  /** The extnValue OCTET STRING contents. */
  start: number;
  end: number;
}

function extensions(der: Uint8Array, seq: Tlv, m: CertModel): void {
  if (seq.tag !== TAG.SEQUENCE) throw new CertModelError('Extensions is not a SEQUENCE');
  const list: RawExtension[] = [];
  for (const ext of children(der, seq)) {
    if (ext.tag !== TAG.SEQUENCE) throw new CertModelError('Extension is not a SEQUENCE');
    const parts = children(der, ext);
    if (parts[0]?.tag !== TAG.OID) throw new CertModelError('Extension without an OID');
    let k = 1;
    let critical = false;
    if (parts[k]?.tag === TAG.BOOLEAN) critical = der[parts[k++].valueStart] !== 0;
    const v = parts[k];
    if (v?.tag !== TAG.OCTET_STRING || parts.length !== k + 1) throw new CertModelError('Extension without a value');
    list.push({ oid: oidString(der, parts[0]), critical, start: v.valueStart, end: v.end });
  }
  const seen = new Set<string>();
  for (const e of list) {
    if (seen.has(e.oid)) m.invalid = true; // see the header comment
    seen.add(e.oid);
  }
  // X509_get_ext_d2i: a duplicated extension reads as absent-but-invalid; one that does not decode too.
  const decode = <T>(oid: string, fn: (t: Tlv) => T): T | undefined => {
    const found = list.filter((e) => e.oid === oid);
    if (found.length === 0) return undefined;
    if (found.length > 1) {
      m.invalid = true;
      return undefined;
    }
    try {
      return fn(readTlv(der, found[0].start, found[0].end));
    } catch {
      m.invalid = true;
      return undefined;
    }
  };

  decode(OID.BC, (t) => {
    expect(t, TAG.SEQUENCE);
    const [a, b] = children(der, t);
    let ca = false;
    let pathT: Tlv | undefined;
    if (a?.tag === TAG.BOOLEAN) {
      ca = der[a.valueStart] !== 0;
      pathT = b;
    } else pathT = a;
    let pathlen = -1;
    let negative = false;
    if (pathT) {
      expect(pathT, TAG.INTEGER);
      const v = der.subarray(pathT.valueStart, pathT.end);
      if (v.length === 0) throw new Error('empty INTEGER');
      if (v[0] & 0x80) negative = true;
      else pathlen = Math.min(Number(BigInt('0x' + Buffer.from(v).toString('hex'))), 0x7fffffff);
    }
    m.ca = ca;
    m.pathlen = pathlen;
    if (negative) m.invalid = true; // negative pathLenConstraint
    m.bcons = true;
  });
  const proxy = decode(OID.PROXY, (t) => expect(t, TAG.SEQUENCE));
  if (proxy) {
    m.proxy = true;
    if (m.ca || list.some((e) => e.oid === OID.SAN || e.oid === OID.IAN)) m.invalid = true;
  }
  decode(OID.KU, (t) => {
    const bits = bitString(der, t);
    m.kusage = (bits[0] ?? 0) | ((bits[1] ?? 0) << 8);
    if (m.kusage === 0) m.invalid = true; // empty key usage (RFC 5280 4.2.1.3)
  });
  decode(OID.EKU, (t) => {
    expect(t, TAG.SEQUENCE);
    let x = 0;
    for (const o of children(der, t)) {
      expect(o, TAG.OID);
      x |= XKU_BY_OID[oidString(der, o)] ?? 0;
    }
    m.xkusage = x;
  });
  decode(OID.NSCERT, (t) => {
    m.nscert = bitString(der, t)[0] ?? 0;
  });
  decode(OID.SKI, (t) => {
    expect(t, TAG.OCTET_STRING);
    m.skid = der.slice(t.valueStart, t.end);
  });
  decode(OID.AKI, (t) => {
    expect(t, TAG.SEQUENCE);
    const akid: AuthorityKeyId = {};
    for (const c of children(der, t)) {
      if (c.tag === 0x80) akid.keyid = der.slice(c.valueStart, c.end);
      else if (c.tag === 0xa1) akid.issuer = children(der, c).map((g) => generalName(der, g));
      else if (c.tag === 0x82) akid.serial = der.slice(c.valueStart, c.end);
      else throw new Error('bad AuthorityKeyIdentifier');
    }
    m.akid = akid;
  });
  decode(OID.SAN, (t) => {
    expect(t, TAG.SEQUENCE);
    m.altnames = children(der, t).map((g) => generalName(der, g));
  });
  decode(OID.NC, (t) => {
    expect(t, TAG.SEQUENCE);
    const nc: NameConstraints = { permitted: [], excluded: [] };
    for (const c of children(der, t)) {
      if (c.tag !== 0xa0 && c.tag !== 0xa1) throw new Error('bad NameConstraints');
      const into = c.tag === 0xa0 ? nc.permitted : nc.excluded;
      for (const st of children(der, c)) {
        expect(st, TAG.SEQUENCE);
        const [base, ...mm] = children(der, st);
        if (!base) throw new Error('GeneralSubtree without a base');
        const sub: GeneralSubtree = { base: generalName(der, base) };
        for (const x of mm) {
          if (x.tag === 0x80) sub.minimum = der.slice(x.valueStart, x.end);
          else if (x.tag === 0x81) sub.maximum = der.slice(x.valueStart, x.end);
          else throw new Error('bad GeneralSubtree');
        }
        into.push(sub);
      }
    }
    m.nc = nc;
  });
  decode(OID.CRLDP, (t) => {
    expect(t, TAG.SEQUENCE);
    m.crldp = children(der, t).map((dp) => distPoint(der, dp, m.issuer));
  });
  for (const e of list) {
    if (e.critical && !SUPPORTED_CRITICAL.has(e.oid)) {
      m.critical = true;
      break;
    }
  }
}

function distPoint(der: Uint8Array, t: Tlv, issuer: Name): DistPoint {
  expect(t, TAG.SEQUENCE);
  const dp: DistPoint = { reasons: CRLDP_ALL_REASONS };
  let nameT: Tlv | undefined;
  for (const c of children(der, t)) {
    if (c.tag === 0xa0) nameT = readTlv(der, c.valueStart, c.end);
    else if (c.tag === 0x81 || c.tag === 0xa1) {
      const bits = bitString(der, { ...c, tag: TAG.BIT_STRING });
      dp.reasons = ((bits[0] ?? 0) | ((bits[1] ?? 0) << 8)) & CRLDP_ALL_REASONS;
    } else if (c.tag === 0xa2) dp.crlIssuer = children(der, c).map((g) => generalName(der, g));
    else throw new Error('bad DistributionPoint');
  }
  if (!nameT && !dp.crlIssuer?.length) throw new Error('DistributionPoint without a name or CRL issuer');
  if (nameT) {
    const dirIssuer = dp.crlIssuer?.find((g) => g.type === GEN.DIRNAME)?.name ?? issuer;
    dp.name = distPointName(der, nameT, dirIssuer);
  }
  return dp;
}

/** DistributionPointName: [0] fullName GeneralNames | [1] nameRelativeToCRLIssuer RDN. */
export function distPointName(der: Uint8Array, t: Tlv, issuer: Name): DistPointName {
  if (t.tag === 0xa0) return { full: children(der, t).map((g) => generalName(der, g)) };
  if (t.tag === 0xa1) {
    // The RDN appended to the issuer's name, compared in canonical form.
    const rdn = der.slice(t.start, t.end);
    rdn[0] = TAG.SET;
    const issuerRdns = issuer.der.subarray(readTlv(issuer.der, 0).valueStart);
    const full = new Uint8Array([...tlvHead(TAG.SEQUENCE, issuerRdns.length + rdn.length), ...issuerRdns, ...rdn]);
    return { relativeCanon: parseName(full, readTlv(full, 0)).canon };
  }
  throw new Error('bad DistributionPointName');
}

function tlvHead(tag: number, len: number): number[] {
  if (len < 0x80) return [tag, len];
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return [tag, 0x80 | bytes.length, ...bytes];
}

export function generalName(der: Uint8Array, t: Tlv): GeneralName {
  if ((t.tag & 0xc0) !== 0x80) throw new Error('GeneralName is not context-specific');
  const type = t.tag & 0x1f;
  const g: GeneralName = { type, der: der.slice(t.start, t.end), bytes: der.slice(t.valueStart, t.end) };
  switch (type) {
    case GEN.EMAIL:
    case GEN.DNS:
    case GEN.URI:
    case GEN.IPADD:
    case GEN.RID:
      if (t.tag & 0x20) throw new Error('constructed string GeneralName');
      break;
    case GEN.OTHERNAME: {
      const [oidT, valT] = children(der, t);
      if (oidT?.tag !== TAG.OID || valT?.tag !== 0xa0) throw new Error('bad otherName');
      const inner = readTlv(der, valT.valueStart, valT.end);
      g.otherOid = oidString(der, oidT);
      g.otherValueTag = inner.tag;
      g.otherValue = der.slice(inner.valueStart, inner.end);
      break;
    }
    case GEN.DIRNAME:
      g.name = parseName(der, readTlv(der, t.valueStart, t.end));
      break;
    case GEN.X400:
    case GEN.EDIPARTY:
      break;
    default:
      throw new Error('unknown GeneralName type');
  }
  return g;
}

/** X509_check_akid: null when `akid` allows `issuer` as the issuer, else the error name. */
export function checkAkid(issuer: CertModel, akid: AuthorityKeyId | undefined): string | null {
  if (!akid) return null;
  if (akid.keyid && issuer.skid && !sameBytes(akid.keyid, issuer.skid)) return 'AKID_SKID_MISMATCH';
  if (akid.serial && !sameInteger(akid.serial, issuer.serial)) return 'AKID_ISSUER_SERIAL_MISMATCH';
  const dn = akid.issuer?.find((g) => g.type === GEN.DIRNAME)?.name;
  if (dn && dn.canon !== issuer.issuer.canon) return 'AKID_ISSUER_SERIAL_MISMATCH';
  return null;
}

/** check_sig_alg_match: the issuer's key type must be the one the subject's signature needs. */
export function sigAlgMatch(issuerKey: KeyModel, subject: CertModel): string | null {
  if (issuerKey.alg === null) return 'NO_ISSUER_PUBLIC_KEY';
  const need = subject.sigAlg.keyAlg;
  if (need === null) return 'UNSUPPORTED_SIGNATURE_ALGORITHM';
  if (issuerKey.alg === need) return null;
  if (subject.sigAlg.pss && issuerKey.alg === 'RSA-PSS') return null;
  return 'SIGNATURE_ALGORITHM_MISMATCH';
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ASN1_INTEGER_cmp == 0 on two INTEGER content encodings (padding-insensitive). */
export function sameInteger(a: Uint8Array, b: Uint8Array): boolean {
  return sameBytes(minimalInt(a), minimalInt(b));
}

function minimalInt(v: Uint8Array): Uint8Array {
  let i = 0;
  while (i + 1 < v.length && ((v[i] === 0 && v[i + 1] < 0x80) || (v[i] === 0xff && v[i + 1] >= 0x80))) i++;
  return v.subarray(i);
}

function expect(t: Tlv, tag: number): Tlv {
  if (t.tag !== tag) throw new Error(`expected tag 0x${tag.toString(16)}`);
  return t;
}

/** BIT STRING contents without the unused-bits octet, unused bits cleared (c2i_ASN1_BIT_STRING). */
export function bitString(der: Uint8Array, t: Tlv): Uint8Array {
  expect(t, TAG.BIT_STRING);
  const v = der.slice(t.valueStart, t.end);
  if (v.length === 0 || v[0] > 7) throw new Error('bad BIT STRING');
  const data = v.subarray(1);
  if (data.length) data[data.length - 1] &= 0xff << v[0];
  else if (v[0] !== 0) throw new Error('bad BIT STRING');
  return data;
}

function keyModel(der: Uint8Array, spki: Tlv): KeyModel {
  const none: KeyModel = { alg: null, securityBits: 0, explicitCurve: false };
  try {
    const [algT, bits] = children(der, spki);
    if (algT?.tag !== TAG.SEQUENCE || bits?.tag !== TAG.BIT_STRING) return none;
    const { oid, params } = algorithm(der, algT);
    switch (oid) {
      case '1.2.840.113549.1.1.1':
      case '1.2.840.113549.1.1.10': {
        const rsa = readTlv(der, bits.valueStart + 1, bits.end);
        const n = der.subarray(children(der, rsa)[0].valueStart, children(der, rsa)[0].end);
        let j = 0;
        while (j < n.length && n[j] === 0) j++;
        const size = j === n.length ? 0 : (n.length - j - 1) * 8 + (32 - Math.clz32(n[j]));
        return { alg: oid.endsWith('.1') ? 'RSA' : 'RSA-PSS', securityBits: ffcBits(size), explicitCurve: false };
      }
      case '1.2.840.10045.2.1': {
        if (params?.tag === TAG.OID) {
          const b = CURVE_BITS[oidString(der, params)];
          return b ? { alg: 'EC', securityBits: Math.floor(b / 2), explicitCurve: false } : none;
        }
        if (params?.tag === TAG.SEQUENCE) {
          // ECParameters: { version, fieldID { fieldType, prime }, ... }
          const field = children(der, params)[1];
          const prime = children(der, field)[1];
          const p = der.subarray(prime.valueStart, prime.end);
          const size = (p[0] === 0 ? p.length - 1 : p.length) * 8;
          return { alg: 'EC', securityBits: Math.floor(size / 2), explicitCurve: true };
        }
        return none;
      }
      case '1.3.101.112':
        return { alg: 'ED25519', securityBits: 128, explicitCurve: false };
      case '1.3.101.113':
        return { alg: 'ED448', securityBits: 224, explicitCurve: false };
      case '1.2.840.10040.4.1': {
        const p = children(der, params!)[0];
        return { alg: 'DSA', securityBits: ffcBits((p.end - p.valueStart - (der[p.valueStart] === 0 ? 1 : 0)) * 8), explicitCurve: false };
      }
      default:
        return none;
    }
  } catch {
    return none;
  }
}

/** ossl_ifc_ffc_compute_security_bits, for the sizes that matter at security levels 1-5. */
function ffcBits(n: number): number {
  if (n >= 15360) return 256;
  if (n >= 8192) return 200;
  if (n >= 7680) return 192;
  if (n >= 6144) return 176;
  if (n >= 4096) return 152;
  if (n >= 3072) return 128;
  if (n >= 2048) return 112;
  if (n >= 1024) return 80;
  return Math.max(0, Math.floor(n / 16));
}

/** A validity time, with X509_cmp_time's format check. */
export function certTime(der: Uint8Array, t: Tlv): CertTime {
  const s = Buffer.from(der.buffer, der.byteOffset + t.valueStart, t.end - t.valueStart).toString('latin1');
  let m: RegExpExecArray | null = null;
  let year = 0;
  if (t.tag === TAG.UTC_TIME) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (m) year = Number(m[1]) < 50 ? 2000 + Number(m[1]) : 1900 + Number(m[1]);
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (m) year = Number(m[1]);
  } else throw new CertModelError(`a time of tag 0x${t.tag.toString(16)}`);
  if (!m) return { ms: NaN, wellFormed: false };
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number);
  const ms = Date.UTC(year, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  const valid = mo >= 1 && mo <= 12 && back.getUTCDate() === d && h < 24 && mi < 60 && se < 60;
  return { ms: valid ? ms : NaN, wellFormed: valid };
}

/** Empties the model cache (tests). */
export function clearModelCache(): void {
  cache.clear();
}
