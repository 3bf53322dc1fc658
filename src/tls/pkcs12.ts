// PKCS#12 (.p12 / .pfx) files, as operators and SIP devices exchange keys, read and written with
// node-forge. forge decodes the PFX, checks its MAC and decrypts the bags (PBES2 with AES and
// PBKDF2-HMAC-SHA-256, OpenSSL 3's default, and the legacy 3DES / RC2 ones); its own key and
// certificate objects only cover RSA, so keys and certificates are taken as DER and handed to
// node:crypto, which reads every key type. Writing assembles the PFX from forge's ASN.1, PBES2 and
// PKCS#12 key-derivation functions for the same reason (forge's toPkcs12Asn1 takes RSA keys only):
// the key in a shrouded bag (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA-256), the certificates in plain
// bags, an HMAC-SHA-256 MAC over the whole, which `openssl pkcs12` reads without -legacy.
import forge from 'node-forge';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';

export class Pkcs12Error extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Pkcs12Error';
  }
}

export interface Pkcs12Contents {
  /** PKCS#8 PEM of the private key (absent when the file holds certificates only). */
  keyPem?: string;
  /** DER certificates: the one matching the key first, then the others (its chain) in file order. */
  certs: Uint8Array[];
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  certBag: '1.2.840.113549.1.12.10.1.3',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  friendlyName: '1.2.840.113549.1.9.20',
  sha256: '2.16.840.1.101.3.4.2.1',
};

const bin = (b: Uint8Array) => Buffer.from(b).toString('binary');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'binary'));

/** Reads a PKCS#12 file's key and certificates. Throws Pkcs12Error (bad file, wrong password...). */
export function readPkcs12(der: Uint8Array, password: string): Pkcs12Contents {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(bin(der)), { strict: true, parseAllBytes: true } as never);
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, true, password);
  } catch (e) {
    const m = (e as Error).message;
    throw new Pkcs12Error(/MAC could not be verified|decrypt/i.test(m) ? 'wrong password (the MAC does not verify)' : `not a readable PKCS#12 file: ${m}`);
  }
  const keys: Uint8Array[] = [];
  const certs: Uint8Array[] = [];
  for (const sc of p12.safeContents) {
    for (const bag of sc.safeBags) {
      const asn1 = (bag as { asn1?: forge.asn1.Asn1 }).asn1;
      if (bag.type === forge.pki.oids.keyBag || bag.type === forge.pki.oids.pkcs8ShroudedKeyBag) {
        const info = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : asn1;
        if (info) keys.push(bytes(forge.asn1.toDer(info).getBytes()));
      } else if (bag.type === forge.pki.oids.certBag) {
        const c = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : asn1;
        if (c) certs.push(bytes(forge.asn1.toDer(c).getBytes()));
      }
    }
  }
  if (keys.length > 1) throw new Pkcs12Error(`holds ${keys.length} private keys (one expected)`);
  if (certs.length === 0) throw new Pkcs12Error('holds no certificate');
  let keyPem: string | undefined;
  if (keys.length === 1) {
    let key;
    try {
      key = createPrivateKey({ key: Buffer.from(keys[0]), format: 'der', type: 'pkcs8' });
    } catch (e) {
      throw new Pkcs12Error(`the private key cannot be read: ${(e as Error).message}`);
    }
    keyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
    const own = certs.findIndex((c) => {
      try {
        return new X509Certificate(Buffer.from(c)).checkPrivateKey(key);
      } catch {
        return false;
      }
    });
    if (own < 0) throw new Pkcs12Error('no certificate in it matches its private key');
    certs.unshift(...certs.splice(own, 1));
  }
  return { keyPem, certs };
}

export interface WritePkcs12Options {
  keyPem: string;
  /** DER certificates, the key's own first. */
  certs: Uint8Array[];
  password: string;
  friendlyName?: string;
  iterations?: number;
}

/** A PKCS#12 file (DER) holding the key and the certificates. */
export function writePkcs12(o: WritePkcs12Options): Uint8Array {
  const { asn1 } = forge;
  const C = asn1.Class;
  const T = asn1.Type;
  const iterations = o.iterations ?? 2048;
  const keyId = bin(randomBytes(20));
  const attrs = (withKeyId: boolean) => {
    const list = [];
    if (withKeyId) list.push(asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(OID.localKeyId).getBytes()), asn1.create(C.UNIVERSAL, T.SET, true, [asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, keyId)])]));
    if (withKeyId && o.friendlyName) {
      list.push(asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(OID.friendlyName).getBytes()), asn1.create(C.UNIVERSAL, T.SET, true, [asn1.create(C.UNIVERSAL, T.BMPSTRING, false, o.friendlyName)])]));
    }
    return list.length ? [asn1.create(C.UNIVERSAL, T.SET, true, list)] : [];
  };
  const bag = (type: string, value: forge.asn1.Asn1, withKeyId: boolean) =>
    asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(type).getBytes()), asn1.create(C.CONTEXT_SPECIFIC, 0, true, [value]), ...attrs(withKeyId)]);
  const dataInfo = (contents: forge.asn1.Asn1) =>
    asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(OID.data).getBytes()), asn1.create(C.CONTEXT_SPECIFIC, 0, true, [asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, asn1.toDer(contents).getBytes())])]);

  const pkcs8 = createPrivateKey(o.keyPem).export({ type: 'pkcs8', format: 'der' });
  const shrouded = forge.pki.encryptPrivateKeyInfo(asn1.fromDer(bin(pkcs8)), o.password, { algorithm: 'aes256', count: iterations, saltSize: 16, prfAlgorithm: 'sha256' } as never);
  const certBags = o.certs.map((der, i) =>
    bag(
      OID.certBag,
      asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(OID.x509Certificate).getBytes()), asn1.create(C.CONTEXT_SPECIFIC, 0, true, [asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, bin(der))])]),
      i === 0,
    ),
  );
  const authSafe = asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
    dataInfo(asn1.create(C.UNIVERSAL, T.SEQUENCE, true, certBags)),
    dataInfo(asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [bag(OID.shroudedKeyBag, shrouded, true)])),
  ]);
  const authSafeDer = asn1.toDer(authSafe).getBytes();
  // MAC: HMAC-SHA-256 keyed by the PKCS#12 KDF (ID 3) of the password (forge encodes it as BMPString)
  const salt = bin(randomBytes(16));
  const macKey = forge.pkcs12.generateKey(o.password, forge.util.createBuffer(salt), 3, iterations, 32, forge.md.sha256.create());
  const hmac = forge.hmac.create();
  hmac.start(forge.md.sha256.create() as never, macKey);
  hmac.update(authSafeDer);
  const mac = hmac.digest().getBytes();
  const pfx = asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
    asn1.create(C.UNIVERSAL, T.INTEGER, false, String.fromCharCode(3)),
    asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(OID.data).getBytes()), asn1.create(C.CONTEXT_SPECIFIC, 0, true, [asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, authSafeDer)])]),
    asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
      asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
        asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(OID.sha256).getBytes()), asn1.create(C.UNIVERSAL, T.NULL, false, '')]),
        asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, mac),
      ]),
      asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, salt),
      asn1.create(C.UNIVERSAL, T.INTEGER, false, intBytes(iterations)),
    ]),
  ]);
  return bytes(asn1.toDer(pfx).getBytes());
}

function intBytes(n: number): string {
  const b: number[] = [];
  for (; n > 0; n = Math.floor(n / 256)) b.unshift(n & 0xff);
  if (b.length === 0 || b[0] & 0x80) b.unshift(0);
  return String.fromCharCode(...b);
}
