// Certificates and CRLs written field by field in DER, signed with node:crypto: every extension,
// flag and encoding is the caller's choice (no defaults added behind its back), which is what the
// verifier's differential and bad-input tests need: name constraints of every kind, missing or
// wrong key identifiers, odd basic constraints, unknown critical extensions, validity windows,
// names in different string types. Synchronous and fast (EC keys sign in microseconds).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { tlv } from '../verify/der-write.js';
import { readTlv, children } from '../der.js';
import { toPem } from '../pem.js';

export type RawKeyKind = 'ec' | 'ec384' | 'rsa' | 'rsa1024' | 'ed25519';

export interface RawKey {
  kind: RawKeyKind;
  privateKey: KeyObject;
  spki: Uint8Array;
  /** PKCS#8 PEM */
  pem: string;
}

export function rawKey(kind: RawKeyKind = 'ec'): RawKey {
  const { privateKey, publicKey } =
    kind === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : kind === 'rsa' || kind === 'rsa1024'
        ? generateKeyPairSync('rsa', { modulusLength: kind === 'rsa' ? 2048 : 1024 })
        : generateKeyPairSync('ec', { namedCurve: kind === 'ec' ? 'P-256' : 'P-384' });
  return { kind, privateKey, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** A key from PKCS#8 PEM (e.g. an IssuedCertificate's keyPem). */
export function rawKeyFromPem(pem: string): RawKey {
  const privateKey = createPrivateKey(pem);
  const t = privateKey.asymmetricKeyType;
  const kind: RawKeyKind = t === 'ed25519' ? 'ed25519' : t === 'rsa' ? 'rsa' : privateKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ec384' : 'ec';
  return { kind, privateKey, spki: new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })), pem };
}

// --- DER primitives ---

export const der = {
  seq: (...p: Uint8Array[]) => tlv(0x30, ...p),
  set: (...p: Uint8Array[]) => tlv(0x31, ...p),
  octets: (b: Uint8Array | string) => tlv(0x04, typeof b === 'string' ? Buffer.from(b, 'latin1') : b),
  bool: (v: boolean) => tlv(0x01, new Uint8Array([v ? 0xff : 0])),
  null: () => new Uint8Array([0x05, 0x00]),
  int: (v: number | bigint | Uint8Array) => tlv(0x02, v instanceof Uint8Array ? v : intBytes(BigInt(v))),
  oid: (dotted: string) => tlv(0x06, oidBody(dotted)),
  utf8: (s: string) => tlv(0x0c, Buffer.from(s, 'utf8')),
  printable: (s: string) => tlv(0x13, Buffer.from(s, 'latin1')),
  ia5: (s: string) => tlv(0x16, Buffer.from(s, 'latin1')),
  /** Context-specific tag `n`, constructed or not. */
  ctx: (n: number, constructed: boolean, ...p: Uint8Array[]) => tlv(0x80 | (constructed ? 0x20 : 0) | n, ...p),
  bits: (bytes: Uint8Array, unused = 0) => tlv(0x03, new Uint8Array([unused, ...bytes])),
  time: (d: Date) => {
    const s = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    return d.getUTCFullYear() >= 2050 ? tlv(0x18, Buffer.from(s, 'latin1')) : tlv(0x17, Buffer.from(s.slice(2), 'latin1'));
  },
  raw: (tag: number, content: Uint8Array | string) => tlv(tag, typeof content === 'string' ? Buffer.from(content, 'latin1') : content),
};

function intBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array([0]);
  const out: number[] = [];
  let n = v < 0n ? -v - 1n : v;
  while (n > 0n) {
    out.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  if (v < 0n) for (let i = 0; i < out.length; i++) out[i] ^= 0xff;
  if (v >= 0n && out[0] & 0x80) out.unshift(0);
  if (v < 0n && !(out[0] & 0x80)) out.unshift(0xff);
  return Uint8Array.from(out);
}

function oidBody(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const out: number[] = [];
  const push = (n: bigint) => {
    const b = [Number(n & 0x7fn)];
    for (n >>= 7n; n > 0n; n >>= 7n) b.unshift(Number(n & 0x7fn) | 0x80);
    out.push(...b);
  };
  push(arcs[0] * 40n + arcs[1]);
  for (const a of arcs.slice(2)) push(a);
  return Uint8Array.from(out);
}

// --- names ---

const ATTR: Record<string, string> = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', C: '2.5.4.6', L: '2.5.4.7', ST: '2.5.4.8', E: '1.2.840.113549.1.9.1', emailAddress: '1.2.840.113549.1.9.1', DC: '0.9.2342.19200300.100.1.25' };

/** One attribute: type (short name or OID), value, optional string tag (default UTF8String; C and E: their usual types). */
export type RawAttr = [type: string, value: string, tag?: number];

/**
 * A Name from `CN=leaf, O=Org` (most specific first, like the rest of the test PKI) or from
 * attributes in DER order.
 */
export function rawName(spec: string | RawAttr[]): Uint8Array {
  const attrs: RawAttr[] =
    typeof spec === 'string'
      ? spec
          .split(/,\s*/)
          .filter(Boolean)
          .map((p) => {
            const i = p.indexOf('=');
            return [p.slice(0, i).trim(), p.slice(i + 1)] as RawAttr;
          })
          .reverse()
      : spec;
  return der.seq(
    ...attrs.map(([type, value, tag]) => {
      const oid = ATTR[type] ?? type;
      const t = tag ?? (type === 'C' ? 0x13 : oid === ATTR.E ? 0x16 : 0x0c);
      return der.set(der.seq(der.oid(oid), tlv(t, Buffer.from(value, t === 0x0c ? 'utf8' : 'latin1'))));
    }),
  );
}

// --- general names ---

export type RawGeneralName =
  | { dns: string }
  | { email: string }
  | { uri: string }
  | { ip: string }
  | { dir: string | RawAttr[] }
  | { other: string; utf8: string }
  | { rid: string };

export function generalName(g: RawGeneralName): Uint8Array {
  if ('dns' in g) return der.ctx(2, false, Buffer.from(g.dns, 'latin1'));
  if ('email' in g) return der.ctx(1, false, Buffer.from(g.email, 'latin1'));
  if ('uri' in g) return der.ctx(6, false, Buffer.from(g.uri, 'latin1'));
  if ('ip' in g) return der.ctx(7, false, ipOrRange(g.ip));
  if ('dir' in g) return der.ctx(4, true, rawName(g.dir));
  if ('other' in g) return der.ctx(0, true, der.oid(g.other), der.ctx(0, true, der.utf8(g.utf8)));
  return der.ctx(8, false, oidBody(g.rid));
}

/** `192.0.2.1`, `2001:db8::1`, or a range `10.0.0.0/8`, `2001:db8::/32` (address + mask, for name constraints). */
function ipOrRange(s: string): Uint8Array {
  const [addr, bits] = s.split('/');
  const a = ipOctets(addr);
  if (bits === undefined) return a;
  const mask = new Uint8Array(a.length);
  for (let i = 0; i < Number(bits); i++) mask[i >> 3] |= 0x80 >> (i & 7);
  return new Uint8Array([...a, ...mask]);
}

function ipOctets(s: string): Uint8Array {
  if (isIP(s) === 4) return Uint8Array.from(s.split('.').map(Number));
  const [l, r] = s.split('::');
  const g = (x: string | undefined) => (x ? x.split(':').map((h) => parseInt(h, 16)) : []);
  const left = g(l);
  const right = r === undefined ? [] : g(r);
  const all = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((v, i) => {
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

// --- extensions ---

export interface RawExtension {
  oid: string;
  critical?: boolean;
  /** The extnValue contents (the DER of the extension's own type). */
  value: Uint8Array;
}

export const KU_BITS = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6, encipherOnly: 7, decipherOnly: 8 } as const;
export const EKU = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2', codeSigning: '1.3.6.1.5.5.7.3.3', emailProtection: '1.3.6.1.5.5.7.3.4', ocspSigning: '1.3.6.1.5.5.7.3.9', anyExtendedKeyUsage: '2.5.29.37.0', sipDomain: '1.3.6.1.5.5.7.3.20', nsSgc: '2.16.840.1.113730.4.1' } as const;

export const ext = {
  basicConstraints: (o: { ca?: boolean; pathlen?: number }, critical = true): RawExtension => ({
    oid: '2.5.29.19',
    critical,
    value: der.seq(...(o.ca ? [der.bool(true)] : []), ...(o.pathlen !== undefined ? [der.int(o.pathlen)] : [])),
  }),
  keyUsage: (names: (keyof typeof KU_BITS)[], critical = true): RawExtension => {
    const bits: number[] = names.map((n) => KU_BITS[n]);
    const len = bits.length ? Math.floor(Math.max(...bits) / 8) + 1 : 1;
    const bytes = new Uint8Array(len);
    for (const b of bits) bytes[b >> 3] |= 0x80 >> (b & 7);
    let last = -1;
    for (let i = 0; i < 16; i++) if (bits.includes(i)) last = i;
    const unused = last < 0 ? 0 : 7 - (last & 7);
    return { oid: '2.5.29.15', critical, value: der.bits(bytes, unused) };
  },
  extKeyUsage: (oids: string[], critical = false): RawExtension => ({ oid: '2.5.29.37', critical, value: der.seq(...oids.map((o) => der.oid(o))) }),
  subjectAltName: (names: RawGeneralName[], critical = false): RawExtension => ({ oid: '2.5.29.17', critical, value: der.seq(...names.map(generalName)) }),
  subjectKeyId: (id: Uint8Array, critical = false): RawExtension => ({ oid: '2.5.29.14', critical, value: der.octets(id) }),
  authorityKeyId: (o: { keyid?: Uint8Array; issuer?: string; serial?: number | bigint | Uint8Array }, critical = false): RawExtension => ({
    oid: '2.5.29.35',
    critical,
    value: der.seq(
      ...(o.keyid ? [der.ctx(0, false, o.keyid)] : []),
      ...(o.issuer ? [der.ctx(1, true, generalName({ dir: o.issuer }))] : []),
      ...(o.serial !== undefined ? [der.ctx(2, false, o.serial instanceof Uint8Array ? o.serial : der.int(o.serial).subarray(2))] : []),
    ),
  }),
  nameConstraints: (o: { permitted?: (RawGeneralName & { min?: number; max?: number })[]; excluded?: (RawGeneralName & { min?: number; max?: number })[] }, critical = true): RawExtension => {
    const subtrees = (list: (RawGeneralName & { min?: number; max?: number })[]) =>
      list.map((g) => der.seq(generalName(g), ...(g.min !== undefined ? [der.ctx(0, false, der.int(g.min).subarray(2))] : []), ...(g.max !== undefined ? [der.ctx(1, false, der.int(g.max).subarray(2))] : [])));
    return {
      oid: '2.5.29.30',
      critical,
      value: der.seq(...(o.permitted ? [der.ctx(0, true, ...subtrees(o.permitted))] : []), ...(o.excluded ? [der.ctx(1, true, ...subtrees(o.excluded))] : [])),
    };
  },
  crlDistributionPoints: (uris: string[]): RawExtension => ({ oid: '2.5.29.31', value: der.seq(...uris.map((u) => der.seq(der.ctx(0, true, der.ctx(0, true, generalName({ uri: u })))))) }),
  unknown: (oid = '1.3.6.1.4.1.55555.1.1', critical = true, value: Uint8Array = der.null()): RawExtension => ({ oid, critical, value }),
};

/** The SHA-1 of the public key bits, as CAs make subject key identifiers (RFC 5280 4.2.1.2 (1)). */
export function keyId(key: RawKey): Uint8Array {
  const spki = readTlv(key.spki, 0);
  const bits = children(key.spki, spki)[1];
  return new Uint8Array(createHash('sha1').update(key.spki.subarray(bits.valueStart + 1, bits.end)).digest());
}

// --- certificates and CRLs ---

export interface RawCertOptions {
  subject: string | RawAttr[];
  /** Default: the subject (self-issued). */
  issuer?: string | RawAttr[];
  /** The certificate's key. */
  key: RawKey;
  /** The signing key; default `key` (self-signed). */
  signer?: RawKey;
  serial?: number | bigint | Uint8Array;
  notBefore: Date;
  notAfter: Date;
  extensions?: RawExtension[];
  /** 2 (v3, default) or 0 (v1, no extensions field). */
  version?: 0 | 2;
  /** Signature digest; default sha256 (sha384 for P-384). */
  hash?: 'sha1' | 'sha256' | 'sha384';
}

export interface RawCert {
  der: Uint8Array;
  pem: string;
  key: RawKey;
}

function sigAlg(signer: RawKey, hash: string): Uint8Array {
  if (signer.kind === 'ed25519') return der.seq(der.oid('1.3.101.112'));
  if (signer.kind === 'rsa' || signer.kind === 'rsa1024') {
    const oid = { sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11', sha384: '1.2.840.113549.1.1.12' }[hash]!;
    return der.seq(der.oid(oid), der.null());
  }
  const oid = { sha1: '1.2.840.10045.4.1', sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3' }[hash]!;
  return der.seq(der.oid(oid));
}

function signTbs(tbs: Uint8Array, signer: RawKey, hash: string): Uint8Array {
  const sig = signer.kind === 'ed25519' ? sign(null, tbs, signer.privateKey) : sign(hash, tbs, { key: signer.privateKey, dsaEncoding: 'der' });
  return new Uint8Array(sig);
}

function extensionsDer(list: RawExtension[]): Uint8Array {
  return der.seq(...list.map((e) => der.seq(der.oid(e.oid), ...(e.critical ? [der.bool(true)] : []), der.octets(e.value))));
}

export function rawCertificate(o: RawCertOptions): RawCert {
  const signer = o.signer ?? o.key;
  const hash = o.hash ?? (signer.kind === 'ec384' ? 'sha384' : 'sha256');
  const alg = sigAlg(signer, hash);
  const version = o.version ?? 2;
  const serial = o.serial instanceof Uint8Array ? der.raw(0x02, o.serial) : der.int(o.serial ?? BigInt('0x' + randomBytes(8).toString('hex')));
  const tbs = der.seq(
    ...(version ? [der.ctx(0, true, der.int(version))] : []),
    serial,
    alg,
    rawName(o.issuer ?? o.subject),
    der.seq(der.time(o.notBefore), der.time(o.notAfter)),
    rawName(o.subject),
    o.key.spki,
    ...(version && o.extensions?.length ? [der.ctx(3, true, extensionsDer(o.extensions))] : []),
  );
  const cert = der.seq(tbs, alg, der.bits(signTbs(tbs, signer, hash)));
  return { der: cert, pem: toPem(cert, 'CERTIFICATE'), key: o.key };
}

export interface RawCrlOptions {
  issuer: string | RawAttr[];
  signer: RawKey;
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked?: { serial: number | bigint | Uint8Array; date?: Date; reason?: number; critical?: RawExtension }[];
  extensions?: RawExtension[];
}

export function rawCrl(o: RawCrlOptions): { der: Uint8Array; pem: string } {
  const hash = o.signer.kind === 'ec384' ? 'sha384' : 'sha256';
  const alg = sigAlg(o.signer, hash);
  const entries = (o.revoked ?? []).map((r) => {
    const exts: RawExtension[] = [];
    if (r.reason !== undefined) exts.push({ oid: '2.5.29.21', value: der.raw(0x0a, new Uint8Array([r.reason])) });
    if (r.critical) exts.push(r.critical);
    return der.seq(r.serial instanceof Uint8Array ? der.raw(0x02, r.serial) : der.int(r.serial), der.time(r.date ?? o.thisUpdate), ...(exts.length ? [extensionsDer(exts)] : []));
  });
  const tbs = der.seq(
    der.int(1),
    alg,
    rawName(o.issuer),
    der.time(o.thisUpdate),
    ...(o.nextUpdate ? [der.time(o.nextUpdate)] : []),
    ...(entries.length ? [der.seq(...entries)] : []),
    ...(o.extensions?.length ? [der.ctx(0, true, extensionsDer(o.extensions))] : []),
  );
  const crl = der.seq(tbs, alg, der.bits(signTbs(tbs, o.signer, hash)));
  return { der: crl, pem: toPem(crl, 'X509 CRL') };
}

/** The INTEGER content bytes of a serial number, as the certificate carries it. */
export function serialBytes(serial: number | bigint): Uint8Array {
  return intBytes(BigInt(serial));
}
