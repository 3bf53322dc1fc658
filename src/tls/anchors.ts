// The trust anchors of a domain (its CA list), indexed by subject, so the peer's chain can be
// completed from them without Node's getPeerCertificate(true): that call re-parses (X509_dup) every
// certificate the peer sent and costs ~130 µs per intermediate with OpenSSL 3.0.
//
// Completing the chain from our own CA list gives the chain OpenSSL itself verified: OpenSSL builds
// with trusted certificates first (X509_V_FLAG_TRUSTED_FIRST, the default since 1.1.0), so when the
// peer's issuer is one of our CAs, that CA (not a copy the peer sent) is in the verified chain.
// Issuer matching follows X509_check_issued: subject name, and key identifiers when both are present.
import { certInfo, type CertInfo } from './certinfo.js';

export interface Anchor {
  der: Uint8Array;
  info: CertInfo;
}

export class AnchorIndex {
  private readonly bySubject = new Map<string, Anchor[]>();
  private count = 0;

  constructor(ders: Uint8Array[] = []) {
    for (const der of ders) {
      const info = certInfo(der);
      const list = this.bySubject.get(info.subject.string) ?? [];
      if (!list.some((a) => a.info.fingerprint.sha256 === info.fingerprint.sha256)) {
        list.push({ der, info });
        this.count++;
      }
      this.bySubject.set(info.subject.string, list);
    }
  }

  static fromPems(pems: string[]): AnchorIndex {
    return new AnchorIndex(pems.map((p) => new Uint8Array(Buffer.from(p.replace(/-----[^-]+-----|\s/g, ''), 'base64'))));
  }

  get size(): number {
    return this.count;
  }

  /** The one CA of this list that issued `cert`; undefined when none or more than one could have. */
  issuerOf(cert: CertInfo): Anchor | undefined {
    const list = this.bySubject.get(cert.issuer.string);
    if (!list) return undefined;
    const fits = list.filter((a) => cert.aki === undefined || a.info.ski === undefined || a.info.ski === cert.aki);
    return fits.length === 1 ? fits[0] : undefined;
  }

  /**
   * Completes a chain that starts with `leaf` using only these anchors, up to a self-issued one.
   * Undefined when it cannot (an issuer outside the list, or an ambiguous one).
   */
  complete(leafDer: Uint8Array, leaf: CertInfo, maxLength = 32): { ders: Uint8Array[]; infos: CertInfo[] } | undefined {
    const ders = [leafDer];
    const infos = [leaf];
    let cur = leaf;
    while (!cur.self_issued) {
      const next = this.issuerOf(cur);
      if (!next || ders.length >= maxLength) return undefined;
      ders.push(next.der);
      infos.push(next.info);
      cur = next.info;
    }
    return { ders, infos };
  }
}
