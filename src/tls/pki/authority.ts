// Test PKI: certificate authorities (root and intermediate), leaf certificates with any SAN kind,
// odd validity and usages, revocation and CRLs. Everything is real X.509 made with @peculiar/x509,
// so the TLS tests run against the same kind of material an operator deploys.
import { randomBytes } from 'node:crypto';
import { x509, generateKey, privateKeyPem, toPem, type KeyMaterial, type KeySpec } from './crypto.js';

export type KeyUsageName = keyof typeof x509.KeyUsageFlags;
/** `server` → serverAuth, `client` → clientAuth, `both` (the SIP default: a proxy is both), `none` → no EKU. */
export type UsageProfile = 'server' | 'client' | 'both' | 'none';
export type Validity = 'valid' | 'expired' | 'not-yet-valid';

export interface SanSpec {
  dns?: string[];
  /** Any URI, e.g. `sip:atlanta.example` or `sip:bob@example.org`. */
  uri?: string[];
  email?: string[];
  ip?: string[];
}

export interface IssueOptions {
  /** RFC 4514-ish subject, e.g. `CN=sbc.atlanta.example, O=FedA`. */
  subject: string;
  san?: SanSpec;
  key?: KeySpec;
  usage?: UsageProfile;
  /** Replaces the default key usage (digitalSignature, plus keyEncipherment for RSA). */
  keyUsage?: KeyUsageName[];
  /** Replaces the EKU implied by `usage`: names (serverAuth, clientAuth, codeSigning...) or OIDs. */
  extKeyUsage?: string[];
  validity?: Validity;
  notBefore?: Date;
  notAfter?: Date;
  /** Hex serial; random 16 bytes by default. */
  serial?: string;
  /** Extra extensions, e.g. an unknown critical one: `new x509.Extension('1.3.6.1.4.1.99999.1', true, der)`. */
  extensions?: x509.Extension[];
}

export interface CaOptions {
  subject: string;
  key?: KeySpec;
  pathLength?: number;
  validity?: Validity;
  notBefore?: Date;
  notAfter?: Date;
  serial?: string;
}

export interface RevocationEntry {
  serial: string;
  date: Date;
  reason?: x509.X509CrlReason;
}

const DAY = 86_400_000;

/** A certificate with its private key, as handed to a TLS endpoint. */
export class IssuedCertificate {
  constructor(
    readonly cert: x509.X509Certificate,
    readonly key: KeyMaterial,
    readonly keyPem: string,
    /** Issuing CAs, nearest first, root last (empty for self-signed). */
    readonly issuers: x509.X509Certificate[],
  ) {}
  get serial(): string {
    return this.cert.serialNumber;
  }
  get certPem(): string {
    return pem(this.cert);
  }
  /** Leaf plus intermediates (no root): what a peer sends in its Certificate message. */
  get chainPem(): string {
    return [this.cert, ...this.issuers.slice(0, -1)].map(pem).join('');
  }
  /** Leaf, intermediates and root. */
  get fullChainPem(): string {
    return [this.cert, ...this.issuers].map(pem).join('');
  }
  /** Root certificate of this chain (the leaf itself when self-signed). */
  get rootPem(): string {
    return pem(this.issuers.at(-1) ?? this.cert);
  }
  /** `{cert, key}` ready for `tls.createSecureContext` / domain configs (cert includes intermediates). */
  get tlsOptions(): { cert: string; key: string } {
    return { cert: this.chainPem, key: this.keyPem };
  }
}

export class CertificateAuthority extends IssuedCertificate {
  private readonly revoked: RevocationEntry[] = [];

  /** A self-signed root CA. */
  static async createRoot(opts: CaOptions): Promise<CertificateAuthority> {
    const key = await generateKey(opts.key);
    const { notBefore, notAfter } = validityDates(opts);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: opts.serial ?? randomSerial(),
      name: dn(opts.subject),
      notBefore,
      notAfter,
      keys: key.keys,
      signingAlgorithm: key.signingAlgorithm,
      extensions: await caExtensions(key, opts.pathLength),
    });
    return new CertificateAuthority(cert, key, await privateKeyPem(key.keys.privateKey), []);
  }

  /** Loads a CA (certificate + PKCS#8 key + its issuers) from PEM, e.g. from `bastion ca` files. */
  static async fromPem(certPem: string, keyPem: string, issuerPems: string[] = []): Promise<CertificateAuthority> {
    const { importPrivateKeyPem } = await import('./crypto.js');
    const key = await importPrivateKeyPem(keyPem);
    return new CertificateAuthority(new x509.X509Certificate(certPem), key, keyPem, issuerPems.map((p) => new x509.X509Certificate(p)));
  }

  get revocations(): readonly RevocationEntry[] {
    return this.revoked;
  }

  /** An intermediate CA signed by this one. */
  async createIntermediate(opts: CaOptions): Promise<CertificateAuthority> {
    const key = await generateKey(opts.key);
    const cert = await this.sign(opts, key, await caExtensions(key, opts.pathLength));
    return new CertificateAuthority(cert, key, await privateKeyPem(key.keys.privateKey), [this.cert, ...this.issuers]);
  }

  /** A leaf (end-entity) certificate. */
  async issue(opts: IssueOptions): Promise<IssuedCertificate> {
    const key = await generateKey(opts.key);
    const cert = await this.sign(opts, key, await leafExtensions(key, opts));
    return new IssuedCertificate(cert, key, await privateKeyPem(key.keys.privateKey), [this.cert, ...this.issuers]);
  }

  /** A certificate for `key` signed by this CA, with its own extensions plus our key identifier. */
  private async sign(opts: CaOptions | IssueOptions, key: KeyMaterial, extensions: x509.Extension[]): Promise<x509.X509Certificate> {
    const { notBefore, notAfter } = validityDates(opts);
    return x509.X509CertificateGenerator.create({
      serialNumber: opts.serial ?? randomSerial(),
      subject: dn(opts.subject),
      issuer: this.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: key.keys.publicKey,
      signingKey: this.key.keys.privateKey,
      signingAlgorithm: this.key.signingAlgorithm,
      extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(this.key.keys.publicKey)],
    });
  }

  /** Marks a certificate (or hex serial) revoked; takes effect in the next `crl()`. */
  revoke(certOrSerial: IssuedCertificate | string, reason?: x509.X509CrlReason, date = new Date()): void {
    const serial = typeof certOrSerial === 'string' ? certOrSerial.toLowerCase() : certOrSerial.serial;
    if (!this.revoked.some((r) => r.serial === serial)) this.revoked.push({ serial, date, reason });
  }

  /** A CRL signed by this CA listing every revocation so far. */
  async crl(opts: { thisUpdate?: Date; nextUpdate?: Date } = {}): Promise<{ crl: x509.X509Crl; pem: string }> {
    const thisUpdate = opts.thisUpdate ?? new Date(Date.now() - 60_000);
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.cert.subjectName,
      thisUpdate,
      nextUpdate: opts.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * DAY),
      signingKey: this.key.keys.privateKey,
      signingAlgorithm: this.key.signingAlgorithm,
      entries: this.revoked.map((r) => ({ serialNumber: r.serial, revocationDate: r.date, reason: r.reason })),
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(this.key.keys.publicKey)],
    });
    return { crl, pem: toPem(crl.rawData, 'X509 CRL') };
  }
}

/** A self-signed end-entity certificate (no CA). */
export async function selfSigned(opts: IssueOptions): Promise<IssuedCertificate> {
  const key = await generateKey(opts.key);
  const { notBefore, notAfter } = validityDates(opts);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: opts.serial ?? randomSerial(),
    name: dn(opts.subject),
    notBefore,
    notAfter,
    keys: key.keys,
    signingAlgorithm: key.signingAlgorithm,
    extensions: await leafExtensions(key, opts),
  });
  return new IssuedCertificate(cert, key, await privateKeyPem(key.keys.privateKey), []);
}

/**
 * Subjects are written most specific first (`CN=host, O=Org, C=US`, as RFC 4514 prints them);
 * X.509 stores them the other way round, so the order is reversed for encoding.
 */
export function dn(subject: string): x509.Name {
  return new x509.Name([...new x509.Name(subject).toJSON()].reverse());
}

export function pem(cert: x509.X509Certificate): string {
  return toPem(cert.rawData, 'CERTIFICATE');
}

export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive INTEGER without a leading zero byte
  if (b[0] === 0) b[0] = 1;
  return b.toString('hex');
}

function validityDates(o: { validity?: Validity; notBefore?: Date; notAfter?: Date }): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const preset =
    o.validity === 'expired'
      ? { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) }
      : o.validity === 'not-yet-valid'
        ? { notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) }
        : { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 365 * DAY) };
  return { notBefore: o.notBefore ?? preset.notBefore, notAfter: o.notAfter ?? preset.notAfter };
}

async function caExtensions(key: KeyMaterial, pathLength?: number): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
  ];
}

const EKU_OIDS: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  sipDomain: '1.3.6.1.5.5.7.3.20', // id-kp-sipDomain (RFC 5924)
};

async function leafExtensions(key: KeyMaterial, o: IssueOptions): Promise<x509.Extension[]> {
  const exts: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  const kuNames = o.keyUsage ?? (key.spec.alg === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  if (kuNames.length) {
    const flags = kuNames.reduce((f, n) => f | x509.KeyUsageFlags[n as KeyUsageName], 0);
    exts.push(new x509.KeyUsagesExtension(flags, true));
  }
  const profile = o.usage ?? 'both';
  const eku = o.extKeyUsage ?? (profile === 'server' ? ['serverAuth'] : profile === 'client' ? ['clientAuth'] : profile === 'both' ? ['serverAuth', 'clientAuth'] : []);
  if (eku.length) exts.push(new x509.ExtendedKeyUsageExtension(eku.map((e) => EKU_OIDS[e] ?? e), false));
  const names: x509.JsonGeneralName[] = [
    ...(o.san?.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(o.san?.uri ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(o.san?.email ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(o.san?.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length) exts.push(new x509.SubjectAlternativeNameExtension(names, false));
  exts.push(await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey));
  exts.push(...(o.extensions ?? []));
  return exts;
}
