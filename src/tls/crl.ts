// CRLs per CA, checked by the project rather than by OpenSSL: Node's `crl` option turns on
// CRL checking for the whole chain, so a CA without a CRL fails every peer. Here a CA with a CRL
// is checked and a CA without one is not.
//
// CRLs are parsed with @peculiar/x509 at load time and their signatures verified there against the
// domain's CA list. A CRL whose issuer is not in the CA list (an intermediate the peer sends) is
// verified on first use against the issuing certificate from the peer's chain, synchronously with
// node:crypto, and the result is remembered.
import { readFileSync } from 'node:fs';
import { X509Certificate as NodeX509, verify as nodeVerify, createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList, Name as AsnName } from '@peculiar/asn1-x509';
import { x509 } from './pki/crypto.js';
import { nameInfo, serialHex, type CertInfo } from './certinfo.js';
import { signatureHash } from './sig-hash.js';

export type CrlVerdict = null | 'CERT_REVOKED' | 'CRL_SIGNATURE_FAILURE' | 'CRL_HAS_EXPIRED' | 'CRL_NOT_YET_VALID';

interface LoadedCrl {
  file: string;
  issuer: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  serials: Set<string>;
  tbs: Buffer;
  signature: Buffer;
  /** verify()'s algorithm: a hash name, null for Ed25519, undefined when unsupported (never verifies) */
  hash: string | null | undefined;
  /** SHA-256 fingerprints of CA certificates this CRL's signature was verified with, and failures. */
  verifiedBy: Set<string>;
  failedWith: Set<string>;
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
  private readonly byIssuer = new Map<string, LoadedCrl[]>();

  get size(): number {
    let n = 0;
    for (const l of this.byIssuer.values()) n += l.length;
    return n;
  }

  /** Loads CRL files (PEM with one or more CRLs, or DER) and verifies them against `caPems`. */
  static async load(files: string[], caPems: string[]): Promise<CrlIndex> {
    const index = new CrlIndex();
    const cas = caPems.map((p) => new x509.X509Certificate(p));
    for (const file of files) {
      let raw: Buffer;
      try {
        raw = readFileSync(file);
      } catch (e) {
        throw new CrlError(file, `cannot read: ${(e as Error).message}`);
      }
      const ders = splitCrls(raw, file);
      for (const der of ders) await index.add(der, file, cas);
    }
    return index;
  }

  private async add(der: Buffer, file: string, cas: x509.X509Certificate[]): Promise<void> {
    let crl: x509.X509Crl;
    let asn: CertificateList;
    try {
      crl = new x509.X509Crl(new Uint8Array(der));
      asn = AsnConvert.parse(der, CertificateList);
    } catch (e) {
      throw new CrlError(file, `not a valid CRL: ${(e as Error).message}`);
    }
    const tbsRaw = asn.tbsCertListRaw ?? AsnConvert.serialize(asn.tbsCertList);
    const loaded: LoadedCrl = {
      file,
      issuer: nameInfo(asn.tbsCertList.issuer).string,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      serials: new Set((asn.tbsCertList.revokedCertificates ?? []).map((r) => serialHex(new Uint8Array(r.userCertificate)))),
      tbs: Buffer.from(tbsRaw),
      signature: Buffer.from(asn.signature),
      hash: signatureHash(asn.signatureAlgorithm.algorithm),
      verifiedBy: new Set(),
      failedWith: new Set(),
    };
    // Verify now against every CA of the domain whose subject is the CRL issuer.
    let sawIssuer = false;
    for (const ca of cas) {
      if (nameInfo(AsnConvert.parse(ca.subjectName.toArrayBuffer(), AsnName)).string !== loaded.issuer) continue;
      sawIssuer = true;
      const fp = createHash('sha256').update(Buffer.from(ca.rawData)).digest('hex');
      if (await crl.verify({ publicKey: ca })) loaded.verifiedBy.add(fp);
      else loaded.failedWith.add(fp);
    }
    if (sawIssuer && loaded.verifiedBy.size === 0) throw new CrlError(file, `signature does not verify with the CA "${loaded.issuer}"`);
    const list = this.byIssuer.get(loaded.issuer) ?? [];
    list.push(loaded);
    this.byIssuer.set(loaded.issuer, list);
  }

  /**
   * Checks `cert` (issued by `issuerDer`) against the CRLs of its issuer. No CRL for that issuer:
   * null (not checked). A CRL whose signature does not verify, or that is out of date, fails closed.
   */
  check(cert: CertInfo, issuerDer: Uint8Array, issuerFp: string, now = new Date()): CrlVerdict {
    const list = this.byIssuer.get(cert.issuer.string);
    if (!list) return null;
    for (const crl of list) {
      if (!this.signatureOk(crl, issuerDer, issuerFp)) return 'CRL_SIGNATURE_FAILURE';
      if (crl.thisUpdate > now) return 'CRL_NOT_YET_VALID';
      if (crl.nextUpdate && crl.nextUpdate < now) return 'CRL_HAS_EXPIRED';
      if (crl.serials.has(cert.serial)) return 'CERT_REVOKED';
    }
    return null;
  }

  private signatureOk(crl: LoadedCrl, issuerDer: Uint8Array, fp: string): boolean {
    if (crl.verifiedBy.has(fp)) return true;
    if (crl.failedWith.has(fp) || crl.hash === undefined) return false;
    let ok = false;
    try {
      const key = new NodeX509(Buffer.from(issuerDer)).publicKey;
      ok = nodeVerify(crl.hash, crl.tbs, key, crl.signature);
    } catch {
      ok = false;
    }
    (ok ? crl.verifiedBy : crl.failedWith).add(fp);
    return ok;
  }
}

function splitCrls(raw: Buffer, file: string): Buffer[] {
  const text = raw.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = [...text.matchAll(/-----BEGIN (?:X509 )?CRL-----([\s\S]*?)-----END (?:X509 )?CRL-----/g)];
    if (blocks.length === 0) throw new CrlError(file, 'no "BEGIN X509 CRL" block in PEM file');
    return blocks.map((m) => Buffer.from(m[1].replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));
  }
  if (raw.length === 0) throw new CrlError(file, 'empty file');
  return [raw];
}
