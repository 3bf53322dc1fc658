// The trusted certificates of a domain (its CA list, like OpenSSL's X509_STORE): parsed once, kept
// in file order (OpenSSL keeps same-subject certificates in the order they were added, and picks
// the first acceptable one), exact duplicates dropped, indexed by canonical subject.
import { parseCertificate, type CertModel } from './model.js';

export class TrustStore {
  private readonly bySubject = new Map<string, CertModel[]>();
  private readonly byDer = new Set<string>();
  readonly certs: CertModel[] = [];

  /** Throws CertModelError when a certificate cannot be parsed. */
  constructor(ders: Uint8Array[] = []) {
    for (const der of ders) this.add(parseCertificate(der));
  }

  static fromPems(pems: string[]): TrustStore {
    return new TrustStore(pems.map((p) => new Uint8Array(Buffer.from(p.replace(/-----[^-]+-----|\s/g, ''), 'base64'))));
  }

  private add(c: CertModel): void {
    if (this.byDer.has(c.sha256)) return;
    this.byDer.add(c.sha256);
    this.certs.push(c);
    const list = this.bySubject.get(c.subject.canon) ?? [];
    list.push(c);
    this.bySubject.set(c.subject.canon, list);
  }

  get size(): number {
    return this.certs.length;
  }

  /** Certificates whose subject is `canon` (X509_STORE_CTX_get1_certs), in store order. */
  withSubject(canon: string): CertModel[] {
    return this.bySubject.get(canon) ?? [];
  }
}
