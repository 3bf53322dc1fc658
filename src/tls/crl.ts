// CRLs of a domain, parsed into what OpenSSL's revocation check uses (crypto/x509/x_crl.c): issuer
// name, update times, revoked serials with their reasons, authority key identifier, issuing
// distribution point, and whether a critical extension is unhandled. The check itself (which CRL
// applies, its signature, its times, the serial) is the verifier's (verify/chain.ts), in
// OpenSSL's order.
//
// Project rule, unlike OpenSSL's all-or-nothing X509_V_FLAG_CRL_CHECK_ALL: a certificate whose
// issuer has a CRL in the list is checked against it; one whose issuer has none is not.
//
// At load, a CRL whose issuer is one of the domain's CAs must verify with that CA's key, or the
// domain does not load (a clear error at start-up and on reload rather than peers refused later).
import { readFileSync } from 'node:fs';
import { readTlv, children, oidString, TAG, type Tlv } from './der.js';
import { parseName, type Name } from './verify/names.js';
import {
  parseCertificate,
  signedParts,
  certTime,
  generalName,
  distPointName,
  bitString,
  sameInteger,
  CRLDP_ALL_REASONS,
  type AuthorityKeyId,
  type CertModel,
  type CertTime,
  type DistPointName,
  type Signed,
} from './verify/model.js';
import { signatureValid } from './verify/signature.js';

export interface RevokedEntry {
  serial: Uint8Array;
  /** CRLReason; 8 = removeFromCRL. */
  reason?: number;
}

export interface CrlModel extends Signed {
  file: string;
  der: Uint8Array;
  issuer: Name;
  thisUpdate: CertTime;
  nextUpdate?: CertTime;
  revoked: RevokedEntry[];
  akid?: AuthorityKeyId;
  /** An unhandled critical CRL or entry extension. */
  critical: boolean;
  /** A delta CRL (OpenSSL 3.0 does not skip these without extended CRL support). */
  delta: boolean;
  idp?: { onlyUser: boolean; onlyCa: boolean; onlyAttr: boolean; indirect: boolean; reasons?: number; invalid: boolean; name?: DistPointName };
}

export class CrlError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'CrlError';
  }
}

export class CrlIndex {
  private readonly byIssuer = new Map<string, CrlModel[]>();

  get size(): number {
    let n = 0;
    for (const l of this.byIssuer.values()) n += l.length;
    return n;
  }

  /** The CRLs whose issuer name is `issuerCanon` (X509_STORE_CTX_get1_crls), in load order. */
  forIssuer(issuerCanon: string): CrlModel[] {
    return this.byIssuer.get(issuerCanon) ?? [];
  }

  /** Loads CRL files (PEM with one or more CRLs, or DER) and verifies them against `caPems`. */
  static async load(files: string[], caPems: string[]): Promise<CrlIndex> {
    const index = new CrlIndex();
    const cas = caPems.map((p) => parseCertificate(pemDer(p)));
    for (const file of files) {
      let raw: Buffer;
      try {
        raw = readFileSync(file);
      } catch (e) {
        throw new CrlError(file, `cannot read: ${(e as Error).message}`);
      }
      for (const der of splitCrls(raw, file)) index.add(der, file, cas);
    }
    return index;
  }

  /** Every CRL of the index (load order per issuer). */
  all(): CrlModel[] {
    return [...this.byIssuer.values()].flat();
  }

  /** Replaces the CRLs that came from `source` (a file name or a distribution point URL). */
  replaceSource(source: string, crls: CrlModel[]): void {
    for (const [k, list] of this.byIssuer) {
      const kept = list.filter((c) => c.file !== source);
      if (kept.length) this.byIssuer.set(k, kept);
      else this.byIssuer.delete(k);
    }
    for (const c of crls) this.push(c);
  }

  /** An index of already-parsed CRLs (tests, re-verification with a new CRL set). */
  static of(crls: CrlModel[]): CrlIndex {
    const index = new CrlIndex();
    for (const c of crls) index.push(c);
    return index;
  }

  private add(der: Buffer, file: string, cas: CertModel[]): void {
    let crl: CrlModel;
    try {
      crl = parseCrl(new Uint8Array(der), file);
    } catch (e) {
      throw new CrlError(file, `not a valid CRL: ${(e as Error).message}`);
    }
    const issuers = cas.filter((ca) => ca.subject.canon === crl.issuer.canon);
    if (issuers.length && !issuers.some((ca) => signatureValid(crl, ca))) {
      throw new CrlError(file, `signature does not verify with the CA "${issuerText(crl)}" (a CRL of another CA with the same name?)`);
    }
    this.push(crl);
  }

  private push(crl: CrlModel): void {
    const list = this.byIssuer.get(crl.issuer.canon) ?? [];
    list.push(crl);
    this.byIssuer.set(crl.issuer.canon, list);
  }
}

function issuerText(crl: CrlModel): string {
  return crl.issuer.entries.map((e) => Buffer.from(e.value).toString('latin1')).reverse().join(', ');
}

/** X509_CRL_get0_by_cert: 0 not listed, 1 revoked, 2 listed with reason removeFromCRL. */
export function crlLookup(crl: CrlModel, serial: Uint8Array): 0 | 1 | 2 {
  for (const r of crl.revoked) if (sameInteger(r.serial, serial)) return r.reason === 8 ? 2 : 1;
  return 0;
}

const OID_AKI = '2.5.29.35';
const OID_IDP = '2.5.29.28';
const OID_DELTA = '2.5.29.27';
const OID_REASON = '2.5.29.21';
const OID_CERT_ISSUER = '2.5.29.29';

/** Parses a DER CRL (throws on malformed input). */
export function parseCrl(der: Uint8Array, file = ''): CrlModel {
  const top = readTlv(der, 0);
  if (top.tag !== TAG.SEQUENCE || top.end !== der.length) throw new Error('not a single DER CertificateList');
  const [tbsT, algT, sigT, ...rest] = children(der, top);
  if (!tbsT || !algT || !sigT || rest.length || sigT.tag !== TAG.BIT_STRING) throw new Error('bad CertificateList');
  const f = children(der, tbsT);
  let i = 0;
  if (f[i]?.tag === TAG.INTEGER) i++;
  const tbsAlgT = f[i++];
  const issuerT = f[i++];
  const thisT = f[i++];
  if (tbsAlgT?.tag !== TAG.SEQUENCE || !issuerT || !thisT) throw new Error('truncated TBSCertList');
  let nextT: Tlv | undefined;
  if (f[i] && (f[i].tag === TAG.UTC_TIME || f[i].tag === TAG.GENERALIZED_TIME)) nextT = f[i++];
  const crl: CrlModel = {
    file,
    der,
    ...signedParts(der, tbsT, tbsAlgT, algT, sigT),
    issuer: parseName(der, issuerT),
    thisUpdate: certTime(der, thisT),
    ...(nextT ? { nextUpdate: certTime(der, nextT) } : {}),
    revoked: [],
    critical: false,
    delta: false,
  };
  if (f[i]?.tag === TAG.SEQUENCE) {
    for (const entry of children(der, f[i++])) {
      const [serialT, , extsT] = children(der, entry);
      if (serialT?.tag !== TAG.INTEGER) throw new Error('bad revoked entry');
      const r: RevokedEntry = { serial: der.slice(serialT.valueStart, serialT.end) };
      for (const ext of extsT ? extensionList(der, extsT) : []) {
        if (ext.oid === OID_REASON) {
          const e = readTlv(der, ext.value.valueStart, ext.value.end);
          if (e.tag === TAG.ENUMERATED && e.end > e.valueStart) r.reason = der[e.end - 1];
        }
        if (ext.critical && ext.oid !== OID_CERT_ISSUER) crl.critical = true;
      }
      crl.revoked.push(r);
    }
  }
  if (f[i]?.tag === 0xa0) {
    for (const ext of extensionList(der, readTlv(der, f[i].valueStart, f[i].end))) {
      const inner = () => readTlv(der, ext.value.valueStart, ext.value.end);
      if (ext.oid === OID_AKI) {
        const akid: AuthorityKeyId = {};
        for (const c of children(der, inner())) {
          if (c.tag === 0x80) akid.keyid = der.slice(c.valueStart, c.end);
          else if (c.tag === 0xa1) akid.issuer = children(der, c).map((g) => generalName(der, g));
          else if (c.tag === 0x82) akid.serial = der.slice(c.valueStart, c.end);
        }
        crl.akid = akid;
      } else if (ext.oid === OID_IDP) crl.idp = issuingDistPoint(der, inner(), crl.issuer);
      else if (ext.oid === OID_DELTA) crl.delta = true;
      // handled when critical: IDP, AKI, delta CRL indicator
      if (ext.critical && ext.oid !== OID_IDP && ext.oid !== OID_AKI && ext.oid !== OID_DELTA) crl.critical = true;
    }
  }
  return crl;
}

function issuingDistPoint(der: Uint8Array, t: Tlv, issuer: Name): NonNullable<CrlModel['idp']> {
  const idp: NonNullable<CrlModel['idp']> = { onlyUser: false, onlyCa: false, onlyAttr: false, indirect: false, invalid: false };
  const flag = (c: Tlv) => der[c.valueStart] !== 0;
  for (const c of children(der, t)) {
    if (c.tag === 0xa0) idp.name = distPointName(der, readTlv(der, c.valueStart, c.end), issuer);
    else if (c.tag === 0x81) idp.onlyUser = flag(c);
    else if (c.tag === 0x82) idp.onlyCa = flag(c);
    else if (c.tag === 0x83) {
      const bits = bitString(der, { ...c, tag: TAG.BIT_STRING });
      idp.reasons = ((bits[0] ?? 0) | ((bits[1] ?? 0) << 8)) & CRLDP_ALL_REASONS;
    } else if (c.tag === 0x84) idp.indirect = flag(c);
    else if (c.tag === 0x85) idp.onlyAttr = flag(c);
  }
  if (Number(idp.onlyUser) + Number(idp.onlyCa) + Number(idp.onlyAttr) > 1) idp.invalid = true;
  return idp;
}

function extensionList(der: Uint8Array, seq: Tlv): { oid: string; critical: boolean; value: Tlv }[] {
  return children(der, seq).map((ext) => {
    const parts = children(der, ext);
    let k = 1;
    let critical = false;
    if (parts[k]?.tag === TAG.BOOLEAN) critical = der[parts[k++].valueStart] !== 0;
    if (parts[0]?.tag !== TAG.OID || parts[k]?.tag !== TAG.OCTET_STRING) throw new Error('bad extension');
    return { oid: oidString(der, parts[0]), critical, value: parts[k] };
  });
}

function pemDer(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
}

/** The CRLs of a file or an HTTP body: PEM with one or more, or one DER CRL. */
export function splitCrls(raw: Buffer, file: string): Buffer[] {
  const text = raw.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = [...text.matchAll(/-----BEGIN (?:X509 )?CRL-----([\s\S]*?)-----END (?:X509 )?CRL-----/g)];
    if (blocks.length === 0) throw new CrlError(file, 'no "BEGIN X509 CRL" block in PEM file');
    return blocks.map((m) => Buffer.from(m[1].replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));
  }
  if (raw.length === 0) throw new CrlError(file, 'empty file');
  return [raw];
}
