// crypto.x509.* and crypto.parse_private_keys (OPA's topdown/crypto.go). Certificates are laid out
// as Go's encoding/json marshals x509.Certificate (plus OPA's URIStrings), from our own DER walk;
// signatures and keys are checked with node:crypto.
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as der from './der.js';
import { Base64Error, decodeBase64Strict, pemDecode } from './encoding.js';
import { builtinError, obj, str } from './errors.js';
import { formatIP } from './ip.js';
import { perEvaluation } from './eval-scope.js';
import type { BuiltinTable } from './types.js';

type Json = Record<string, unknown>;

const b64 = (b: Buffer) => b.toString('base64');
const oidStr = (o: number[]) => o.join('.');

// Go's x509.SignatureAlgorithm and PublicKeyAlgorithm enums.
const SIG_ALGS: Record<string, number> = {
  '1.2.840.113549.1.1.2': 1, '1.2.840.113549.1.1.4': 2, '1.2.840.113549.1.1.5': 3, '1.2.840.113549.1.1.11': 4,
  '1.2.840.113549.1.1.12': 5, '1.2.840.113549.1.1.13': 6, '1.2.840.10040.4.3': 7, '2.16.840.1.101.3.4.3.2': 8,
  '1.2.840.10045.4.1': 9, '1.2.840.10045.4.3.2': 10, '1.2.840.10045.4.3.3': 11, '1.2.840.10045.4.3.4': 12,
  '1.3.101.112': 16,
};
const PSS_BY_HASH: Record<string, number> = { '2.16.840.1.101.3.4.2.1': 13, '2.16.840.1.101.3.4.2.2': 14, '2.16.840.1.101.3.4.2.3': 15 };
const PK_ALGS: Record<string, number> = { '1.2.840.113549.1.1.1': 1, '1.2.840.10040.4.1': 2, '1.2.840.10045.2.1': 3, '1.3.101.112': 4 };

const NAME_FIELDS: Record<string, string> = {
  '2.5.4.6': 'Country', '2.5.4.10': 'Organization', '2.5.4.11': 'OrganizationalUnit', '2.5.4.7': 'Locality',
  '2.5.4.8': 'Province', '2.5.4.9': 'StreetAddress', '2.5.4.17': 'PostalCode',
};

const EKU: Record<string, number> = {
  '2.5.29.37.0': 0, '1.3.6.1.5.5.7.3.1': 1, '1.3.6.1.5.5.7.3.2': 2, '1.3.6.1.5.5.7.3.3': 3, '1.3.6.1.5.5.7.3.4': 4,
  '1.3.6.1.5.5.7.3.5': 5, '1.3.6.1.5.5.7.3.6': 6, '1.3.6.1.5.5.7.3.7': 7, '1.3.6.1.5.5.7.3.8': 8, '1.3.6.1.5.5.7.3.9': 9,
  '1.3.6.1.4.1.311.10.3.3': 10, '2.16.840.1.113730.4.1': 11, '1.3.6.1.4.1.311.2.1.22': 12, '1.3.6.1.4.1.311.61.1.1': 13,
};

function sigAlg(algId: der.Node): number {
  const [o, params] = der.children(algId);
  const id = oidStr(der.oid(o));
  if (id === '1.2.840.113549.1.1.10' && params) {
    try {
      const hash = der.children(der.children(params)[0]).map((c) => c)[0];
      const h = der.children(hash)[0];
      return PSS_BY_HASH[oidStr(der.oid(h))] ?? 0;
    } catch {
      return 0;
    }
  }
  return SIG_ALGS[id] ?? 0;
}

/** pkix.Name from an RDNSequence. */
function pkixName(seq: der.Node): Json {
  const name: Json = {
    Country: null, Organization: null, OrganizationalUnit: null, Locality: null, Province: null,
    StreetAddress: null, PostalCode: null, SerialNumber: '', CommonName: '', Names: null, ExtraNames: null,
  };
  const names: Json[] = [];
  for (const set of der.children(seq)) {
    for (const atv of der.children(set)) {
      const [t, v] = der.children(atv);
      const type = der.oid(t);
      const value = der.str(v);
      names.push({ Type: type, Value: value });
      const id = oidStr(type);
      if (id === '2.5.4.3') name.CommonName = value;
      else if (id === '2.5.4.5') name.SerialNumber = value;
      else if (NAME_FIELDS[id]) name[NAME_FIELDS[id]] = [...((name[NAME_FIELDS[id]] as string[] | null) ?? []), value];
    }
  }
  if (names.length) name.Names = names;
  return name;
}

function publicKeyJson(spki: der.Node): { alg: number; key: unknown } {
  const [algId, bits] = der.children(spki);
  const [o, params] = der.children(algId);
  const alg = PK_ALGS[oidStr(der.oid(o))] ?? 0;
  const key = der.bitString(bits).bytes;
  if (alg === 1) {
    const [n, e] = der.children(der.read(Buffer.from(key)));
    return { alg, key: { N: der.bigint(n), E: der.int(e) } };
  }
  if (alg === 3) {
    const len = (key.length - 1) / 2;
    const x = BigInt(`0x${key.subarray(1, 1 + len).toString('hex') || '0'}`);
    const y = BigInt(`0x${key.subarray(1 + len).toString('hex') || '0'}`);
    void params;
    return { alg, key: { Curve: {}, X: x, Y: y } };
  }
  if (alg === 4) return { alg, key: b64(key) };
  return { alg, key: null };
}

function urlJson(u: string): Json {
  let parsed: URL | undefined;
  try {
    parsed = new URL(u);
  } catch {
    parsed = undefined;
  }
  const scheme = parsed ? parsed.protocol.replace(/:$/, '') : '';
  const opaque = parsed && !u.slice(scheme.length + 1).startsWith('//') ? u.slice(scheme.length + 1) : '';
  return {
    Scheme: scheme, Opaque: opaque, User: null, Host: parsed && !opaque ? parsed.host : '', Path: parsed && !opaque ? decodeURIComponent(parsed.pathname === '/' && !u.endsWith('/') ? '' : parsed.pathname) : '',
    RawPath: '', OmitHost: false, ForceQuery: false, RawQuery: parsed ? parsed.search.replace(/^\?/, '') : '', Fragment: parsed ? decodeURIComponent(parsed.hash.replace(/^#/, '')) : '', RawFragment: '',
  };
}

interface GeneralNames {
  dns: string[];
  email: string[];
  ip: string[];
  uri: string[];
}

function generalNames(seq: der.Node): GeneralNames {
  const out: GeneralNames = { dns: [], email: [], ip: [], uri: [] };
  for (const g of der.children(seq)) {
    const c = der.content(g);
    switch (g.tag & 0x1f) {
      case 1:
        out.email.push(c.toString('latin1'));
        break;
      case 2:
        out.dns.push(c.toString('latin1'));
        break;
      case 6:
        out.uri.push(c.toString('latin1'));
        break;
      case 7:
        if (c.length === 4 || c.length === 16) {
          out.ip.push(formatIP({ bits: c.length === 4 ? 32 : 128, value: BigInt(`0x${c.toString('hex')}`) }));
        }
        break;
    }
  }
  return out;
}

const nullIfEmpty = <T>(a: T[]): T[] | null => (a.length ? a : null);

/** Extensions into the Certificate fields Go fills from them. */
function applyExtensions(cert: Json, exts: der.Node | undefined, forCSR = false): void {
  const list: Json[] = [];
  const unhandled: number[][] = [];
  let names: GeneralNames = { dns: [], email: [], ip: [], uri: [] };
  if (exts) {
    for (const ext of der.children(exts)) {
      const parts = der.children(ext);
      const id = der.oid(parts[0]);
      const critical = parts.length === 3 && der.content(parts[1])[0] !== 0;
      const valueNode = parts[parts.length - 1];
      const value = der.content(valueNode);
      list.push({ Id: id, Critical: critical, Value: b64(value) });
      if (forCSR) {
        if (oidStr(id) === '2.5.29.17') names = generalNames(der.read(Buffer.from(value)));
        continue;
      }
      const inner = () => der.read(Buffer.from(value));
      let handled = true;
      switch (oidStr(id)) {
        case '2.5.29.15': {
          const { bytes } = der.bitString(inner());
          let usage = 0;
          for (let i = 0; i < 9; i++) if (bytes[i >> 3] & (0x80 >> (i & 7))) usage |= 1 << i;
          cert.KeyUsage = usage;
          break;
        }
        case '2.5.29.19': {
          cert.BasicConstraintsValid = true;
          const kids = der.children(inner());
          let i = 0;
          if (kids[i] && kids[i].tag === 0x01) cert.IsCA = der.content(kids[i++])[0] !== 0;
          if (kids[i] && kids[i].tag === 0x02) {
            cert.MaxPathLen = der.int(kids[i]);
            cert.MaxPathLenZero = cert.MaxPathLen === 0;
          } else cert.MaxPathLen = -1;
          break;
        }
        case '2.5.29.17':
          names = generalNames(inner());
          break;
        case '2.5.29.37': {
          const known: number[] = [];
          const unknown: number[][] = [];
          for (const o of der.children(inner())) {
            const e = der.oid(o);
            const k = EKU[oidStr(e)];
            if (k === undefined) unknown.push(e);
            else known.push(k);
          }
          cert.ExtKeyUsage = nullIfEmpty(known);
          cert.UnknownExtKeyUsage = nullIfEmpty(unknown);
          break;
        }
        case '2.5.29.14':
          cert.SubjectKeyId = b64(der.content(inner()));
          break;
        case '2.5.29.35': {
          const k = der.children(inner()).find((c) => c.tag === 0x80);
          if (k) cert.AuthorityKeyId = b64(der.content(k));
          break;
        }
        case '1.3.6.1.5.5.7.1.1': {
          const ocsp: string[] = [];
          const issuers: string[] = [];
          for (const ad of der.children(inner())) {
            const [m, loc] = der.children(ad);
            if ((loc.tag & 0x1f) !== 6) continue;
            const u = der.content(loc).toString('latin1');
            const method = oidStr(der.oid(m));
            if (method === '1.3.6.1.5.5.7.48.1') ocsp.push(u);
            else if (method === '1.3.6.1.5.5.7.48.2') issuers.push(u);
          }
          cert.OCSPServer = nullIfEmpty(ocsp);
          cert.IssuingCertificateURL = nullIfEmpty(issuers);
          break;
        }
        case '2.5.29.31': {
          const points: string[] = [];
          for (const dp of der.children(inner())) {
            const dpn = der.children(dp).find((c) => c.tag === 0xa0);
            const full = dpn && der.children(dpn).find((c) => c.tag === 0xa0);
            if (!full) continue;
            for (const g of der.children(full)) if ((g.tag & 0x1f) === 6) points.push(der.content(g).toString('latin1'));
          }
          cert.CRLDistributionPoints = nullIfEmpty(points);
          break;
        }
        case '2.5.29.32': {
          const ids = der.children(inner()).map((pi) => der.oid(der.children(pi)[0]));
          cert.PolicyIdentifiers = nullIfEmpty(ids);
          cert.Policies = nullIfEmpty(ids.map(oidStr));
          break;
        }
        default:
          handled = false;
      }
      if (critical && !handled) unhandled.push(id);
    }
  }
  cert.Extensions = nullIfEmpty(list);
  cert.DNSNames = nullIfEmpty(names.dns);
  cert.EmailAddresses = nullIfEmpty(names.email);
  cert.IPAddresses = nullIfEmpty(names.ip);
  cert.URIs = names.uri.length ? names.uri.map(urlJson) : null;
  if (!forCSR) {
    cert.UnhandledCriticalExtensions = nullIfEmpty(unhandled);
    cert.URIStrings = names.uri.length ? names.uri : null;
  }
}

const goTime = (d: Date) => d.toISOString().replace(/\.000Z$/, 'Z');

/** One DER certificate as Go's x509.Certificate marshals (plus OPA's URIStrings). */
export function certificateJson(derBytes: Buffer): Json {
  const top = der.parseTop(derBytes);
  const [tbs, algId, sig] = der.children(top);
  const t = der.children(tbs);
  let i = 0;
  let version = 1;
  if (t[i].tag === 0xa0) version = der.int(der.children(t[i++])[0]) + 1;
  const serial = t[i++];
  i++; // inner signature algorithm
  const issuer = t[i++];
  const validity = der.children(t[i++]);
  const subject = t[i++];
  const spki = t[i++];
  const exts = t.slice(i).find((n) => n.tag === 0xa3);
  const pk = publicKeyJson(spki);
  const serialValue = der.bigint(serial);
  const cert: Json = {
    Raw: b64(der.raw(top)),
    RawTBSCertificate: b64(der.raw(tbs)),
    RawSubjectPublicKeyInfo: b64(der.raw(spki)),
    RawSubject: b64(der.raw(subject)),
    RawIssuer: b64(der.raw(issuer)),
    Signature: b64(der.bitString(sig).bytes),
    SignatureAlgorithm: sigAlg(algId),
    PublicKeyAlgorithm: pk.alg,
    PublicKey: pk.key,
    Version: version,
    SerialNumber: Number.isSafeInteger(Number(serialValue)) ? Number(serialValue) : serialValue,
    Issuer: pkixName(issuer),
    Subject: pkixName(subject),
    NotBefore: goTime(der.time(validity[0])),
    NotAfter: goTime(der.time(validity[1])),
    KeyUsage: 0,
    Extensions: null,
    ExtraExtensions: null,
    UnhandledCriticalExtensions: null,
    ExtKeyUsage: null,
    UnknownExtKeyUsage: null,
    BasicConstraintsValid: false,
    IsCA: false,
    MaxPathLen: 0,
    MaxPathLenZero: false,
    SubjectKeyId: null,
    AuthorityKeyId: null,
    OCSPServer: null,
    IssuingCertificateURL: null,
    DNSNames: null,
    EmailAddresses: null,
    IPAddresses: null,
    URIs: null,
    PermittedDNSDomainsCritical: false,
    PermittedDNSDomains: null,
    ExcludedDNSDomains: null,
    PermittedIPRanges: null,
    ExcludedIPRanges: null,
    PermittedEmailAddresses: null,
    ExcludedEmailAddresses: null,
    PermittedURIDomains: null,
    ExcludedURIDomains: null,
    CRLDistributionPoints: null,
    PolicyIdentifiers: null,
    Policies: null,
    InhibitAnyPolicy: 0,
    InhibitAnyPolicyZero: false,
    InhibitPolicyMapping: 0,
    InhibitPolicyMappingZero: false,
    RequireExplicitPolicy: 0,
    RequireExplicitPolicyZero: false,
    PolicyMappings: null,
    URIStrings: null,
  };
  applyExtensions(cert, exts ? der.children(exts)[0] : undefined);
  return cert;
}

/** x509.ParseCertificates over concatenated DER. */
function splitDER(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p < buf.length) {
    const n = der.read(buf, p);
    const end = p + n.headerLen + n.len;
    out.push(buf.subarray(p, end));
    p = end;
  }
  return out;
}

function certsFromString(input: string): Buffer[] {
  let data: Buffer;
  if (input.startsWith('-----BEGIN')) data = Buffer.from(input);
  else data = decodeBase64Strict(input, false);
  if (data.subarray(0, 10).toString('latin1') === '-----BEGIN') {
    const blocks: Buffer[] = [];
    let rest = data.toString('latin1');
    for (;;) {
      const b = pemDecode(rest);
      if (!b) break;
      if (b.type !== 'CERTIFICATE') throw new Error(`PEM block type is '${b.type}', expected CERTIFICATE`);
      blocks.push(b.der);
      rest = b.rest;
    }
    data = Buffer.concat(blocks);
  }
  return splitDER(data);
}

function parseCerts(name: string, input: string): Buffer[] {
  // (structure errors surface when each certificate is laid out, in toJson)
  try {
    return certsFromString(input);
  } catch (err) {
    throw builtinError(name, err instanceof Base64Error ? err.message : (err as Error).message.replace(/^asn1: /, 'asn1: structure error: '));
  }
}

function toJson(name: string, certs: Buffer[]): Json[] {
  try {
    return certs.map(certificateJson);
  } catch (err) {
    throw builtinError(name, `x509: malformed certificate: ${(err as Error).message}`);
  }
}

interface VerifyOptions {
  dnsName?: string;
  time?: Date;
  keyUsages?: number[];
}

const KEY_USAGE_NAMES: Record<string, number> = {
  KeyUsageAny: 0, KeyUsageServerAuth: 1, KeyUsageClientAuth: 2, KeyUsageCodeSigning: 3, KeyUsageEmailProtection: 4,
  KeyUsageIPSECEndSystem: 5, KeyUsageIPSECTunnel: 6, KeyUsageIPSECUser: 7, KeyUsageTimeStamping: 8, KeyUsageOCSPSigning: 9,
  KeyUsageMicrosoftServerGatedCrypto: 10, KeyUsageNetscapeServerGatedCrypto: 11, KeyUsageMicrosoftCommercialCodeSigning: 12,
  KeyUsageMicrosoftKernelCodeSigning: 13,
};

/** Go's Certificate.Verify with roots = first cert, intermediates = middle ones, leaf = last. */
function verifyChain(ders: Buffer[], opts: VerifyOptions): Buffer[] | undefined {
  if (ders.length < 2) return undefined;
  const parsed = ders.map((d) => ({ der: d, x: new X509Certificate(d), json: certificateJson(d) }));
  const root = parsed[0];
  const inters = parsed.slice(1, -1);
  const leaf = parsed[parsed.length - 1];
  const now = opts.time ?? new Date(Number(perEvaluation('time.now_ns', () => BigInt(Date.now()) * 1000000n) / 1000000n));
  const timeOk = (c: (typeof parsed)[number]) => new Date(c.x.validFrom) <= now && now <= new Date(c.x.validTo);
  const usages = opts.keyUsages && opts.keyUsages.length ? opts.keyUsages : [1];
  const ekuOk = (c: (typeof parsed)[number]) => {
    const eku = c.json.ExtKeyUsage as number[] | null;
    if (!eku && !c.json.UnknownExtKeyUsage) return true;
    if (usages.includes(0) || eku?.includes(0)) return true;
    return usages.some((u) => eku?.includes(u));
  };
  if (opts.dnsName && !leaf.x.checkHost(opts.dnsName)) return undefined;
  const search = (cur: (typeof parsed)[number], chain: typeof parsed, depth: number): typeof parsed | undefined => {
    if (!timeOk(cur) || !ekuOk(cur) || depth > 10) return undefined;
    if (cur.x.checkIssued(root.x) && cur.x.verify(root.x.publicKey) && timeOk(root)) return [...chain, root];
    for (const ic of inters) {
      if (chain.includes(ic)) continue;
      if (!(ic.json.BasicConstraintsValid && ic.json.IsCA)) continue;
      if (cur.x.checkIssued(ic.x) && cur.x.verify(ic.x.publicKey)) {
        const r = search(ic, [...chain, ic], depth + 1);
        if (r) return r;
      }
    }
    return undefined;
  };
  if (leaf.der.equals(root.der)) return undefined;
  const chain = search(leaf, [leaf], 0);
  return chain?.map((c) => c.der);
}

function verifyOptions(name: string, o: Json): VerifyOptions {
  const out: VerifyOptions = {};
  for (const [k, v] of Object.entries(o)) {
    switch (k) {
      case 'DNSName':
        if (typeof v !== 'string') throw builtinError(name, "'DNSName' should be a string");
        out.dnsName = v.replace(/^"+|"+$/g, '');
        break;
      case 'CurrentTime':
        if (typeof v !== 'number') throw builtinError(name, "'CurrentTime' should be a number");
        if (!Number.isInteger(v)) throw builtinError(name, "'CurrentTime' should be a valid int64 number");
        out.time = new Date(v / 1e6);
        break;
      case 'MaxConstraintComparisons':
        if (typeof v !== 'number') throw builtinError(name, "'MaxConstraintComparisons' should be a number");
        break;
      case 'KeyUsages': {
        if (!Array.isArray(v)) throw builtinError(name, "'KeyUsages' should be an Array or Set");
        const bad = v.filter((u) => typeof u === 'string' && KEY_USAGE_NAMES[u] === undefined);
        if (bad.length) throw builtinError(name, `invalid entries for 'KeyUsages' found: [${bad.join(' ')}]`);
        out.keyUsages = v.filter((u): u is string => typeof u === 'string').map((u) => KEY_USAGE_NAMES[u]);
        break;
      }
      default:
        throw builtinError(name, 'invalid key option');
    }
  }
  return out;
}

function parseAndVerify(name: string, input: unknown, opts: VerifyOptions | (() => VerifyOptions)): unknown[] {
  const s = str(name, input, 1);
  let certs: Buffer[];
  try {
    certs = certsFromString(s);
  } catch {
    return [false, []];
  }
  const o = typeof opts === 'function' ? opts() : opts;
  let chain: Buffer[] | undefined;
  try {
    chain = verifyChain(certs, o);
  } catch {
    chain = undefined;
  }
  if (!chain) return [false, []];
  return [true, toJson(name, chain)];
}

// ---- keys ----

const bn = (b64url: string | undefined): bigint => (b64url ? BigInt(`0x${Buffer.from(b64url, 'base64url').toString('hex') || '0'}`) : 0n);

/** Go's json.Marshal of a crypto.PrivateKey. */
function privateKeyJson(key: KeyObject): unknown {
  const t = key.asymmetricKeyType;
  if (t === 'rsa') {
    const j = key.export({ format: 'jwk' });
    return {
      PublicKey: { N: bn(j.n), E: Number(bn(j.e)) },
      D: bn(j.d),
      Primes: [bn(j.p), bn(j.q)],
      Precomputed: { Dp: bn(j.dp), Dq: bn(j.dq), Qinv: bn(j.qi), CRTValues: [] },
    };
  }
  if (t === 'ec') {
    const j = key.export({ format: 'jwk' });
    return { Curve: {}, X: bn(j.x), Y: bn(j.y), D: bn(j.d) };
  }
  if (t === 'ed25519') {
    const j = key.export({ format: 'jwk' });
    return b64(Buffer.concat([Buffer.from(j.d as string, 'base64url'), Buffer.from(j.x as string, 'base64url')]));
  }
  return null;
}

function privateKeysFromPEM(text: string): KeyObject[] {
  let data = text;
  try {
    data = decodeBase64Strict(text, false).toString('latin1');
  } catch {
    // not base64: PEM as given
  }
  const out: KeyObject[] = [];
  let rest = data;
  for (;;) {
    const b = pemDecode(rest);
    if (!b) break;
    rest = b.rest;
    if (b.type === 'RSA PRIVATE KEY') out.push(createPrivateKey({ key: b.der, format: 'der', type: 'pkcs1' }));
    else if (b.type === 'PRIVATE KEY') out.push(createPrivateKey({ key: b.der, format: 'der', type: 'pkcs8' }));
    else if (b.type === 'EC PRIVATE KEY') out.push(createPrivateKey({ key: b.der, format: 'der', type: 'sec1' }));
  }
  return out;
}

function csrJson(derBytes: Buffer): Json {
  const top = der.parseTop(derBytes);
  const [info, algId, sig] = der.children(top);
  const [version, subject, spki, attrs] = der.children(info);
  const pk = publicKeyJson(spki);
  const attributes: Json[] = [];
  let exts: der.Node | undefined;
  if (attrs) {
    for (const a of der.children(attrs)) {
      const [t, set] = der.children(a);
      const id = der.oid(t);
      if (oidStr(id) === '1.2.840.113549.1.9.14') exts = der.children(set)[0];
      attributes.push({ Type: id, Value: der.children(set).map((v) => der.children(v).map((x) => ({ Type: der.oid(der.children(x)[0]), Value: b64(der.content(der.children(x).at(-1) as der.Node)) }))) });
    }
  }
  const csr: Json = {
    Raw: b64(der.raw(top)),
    RawTBSCertificateRequest: b64(der.raw(info)),
    RawSubjectPublicKeyInfo: b64(der.raw(spki)),
    RawSubject: b64(der.raw(subject)),
    Version: der.int(version),
    Signature: b64(der.bitString(sig).bytes),
    SignatureAlgorithm: sigAlg(algId),
    PublicKeyAlgorithm: pk.alg,
    PublicKey: pk.key,
    Subject: pkixName(subject),
    Attributes: nullIfEmpty(attributes),
    Extensions: null,
    ExtraExtensions: null,
    DNSNames: null,
    EmailAddresses: null,
    IPAddresses: null,
    URIs: null,
  };
  applyExtensions(csr, exts, true);
  return csr;
}

export const x509Builtins: BuiltinTable = {
  'crypto.x509.parse_certificates': (certs) => {
    const name = 'crypto.x509.parse_certificates';
    return toJson(name, parseCerts(name, str(name, certs, 1)));
  },
  'crypto.x509.parse_and_verify_certificates': (certs) => parseAndVerify('crypto.x509.parse_and_verify_certificates', certs, {}),
  'crypto.x509.parse_and_verify_certificates_with_options': (certs, options) => {
    const name = 'crypto.x509.parse_and_verify_certificates_with_options';
    const o = obj(name, options, 2);
    return parseAndVerify(name, certs, () => verifyOptions(name, o));
  },
  'crypto.x509.parse_certificate_request': (csr) => {
    const name = 'crypto.x509.parse_certificate_request';
    const input = str(name, csr, 1);
    let bytes: Buffer;
    try {
      bytes = input.startsWith('-----BEGIN CERTIFICATE REQUEST-----') ? Buffer.from(input) : decodeBase64Strict(input, false);
    } catch (err) {
      throw builtinError(name, (err as Error).message);
    }
    const block = pemDecode(bytes.toString('latin1'));
    if (block && block.type !== 'CERTIFICATE REQUEST') throw builtinError(name, 'invalid PEM-encoded certificate signing request');
    if (block) bytes = block.der;
    try {
      return csrJson(bytes);
    } catch (err) {
      throw builtinError(name, `asn1: structure error: ${(err as Error).message.replace(/^asn1: (structure error: |syntax error: )?/, '')}`);
    }
  },
  'crypto.x509.parse_keypair': (certArg, keyArg) => {
    const name = 'crypto.x509.parse_keypair';
    const certIn = str(name, certArg, 1);
    const keyIn = str(name, keyArg, 1);
    const dec = (s: string) => {
      if (s.startsWith('-----BEGIN ')) return s;
      try {
        return decodeBase64Strict(s, false).toString('latin1');
      } catch (err) {
        throw builtinError(name, (err as Error).message);
      }
    };
    const certText = dec(certIn);
    const keyText = dec(keyIn);
    let certs: Buffer[];
    try {
      certs = certText.startsWith('-----BEGIN') ? certsFromString(certText) : [Buffer.from(certText, 'latin1')];
    } catch (err) {
      throw builtinError(name, `tls: failed to find any PEM data in certificate input: ${(err as Error).message}`);
    }
    let key: KeyObject;
    try {
      const block = pemDecode(keyText);
      key = block
        ? privateKeysFromPEM(keyText)[0] ?? createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' })
        : createPrivateKey({ key: Buffer.from(keyText, 'latin1'), format: 'der', type: 'pkcs8' });
    } catch {
      throw builtinError(name, 'tls: failed to parse private key');
    }
    const leaf = new X509Certificate(certs[0]);
    const pub = createPublicKey(key).export({ format: 'der', type: 'spki' });
    if (!pub.equals(leaf.publicKey.export({ format: 'der', type: 'spki' }))) throw builtinError(name, 'tls: private key does not match public key');
    return {
      Certificate: certs.map(b64),
      PrivateKey: privateKeyJson(key),
      SupportedSignatureAlgorithms: null,
      OCSPStaple: null,
      SignedCertificateTimestamps: null,
      Leaf: certificateJson(certs[0]),
    };
  },
  'crypto.x509.parse_rsa_private_key': (pem) => {
    const name = 'crypto.x509.parse_rsa_private_key';
    let text = str(name, pem, 1);
    if (text === '') throw builtinError(name, 'input PEM data was empty');
    if (!text.startsWith('-----BEGIN')) {
      try {
        text = decodeBase64Strict(text, false).toString('latin1');
      } catch (err) {
        throw builtinError(name, (err as Error).message);
      }
    }
    let keys: KeyObject[];
    try {
      keys = privateKeysFromPEM(text);
    } catch (err) {
      throw builtinError(name, (err as Error).message);
    }
    if (keys.length === 0) return null;
    return keys[0].export({ format: 'jwk' });
  },
  'crypto.parse_private_keys': (pem) => {
    const name = 'crypto.parse_private_keys';
    const text = str(name, pem, 1);
    if (text === '') return null;
    let keys: KeyObject[];
    try {
      keys = privateKeysFromPEM(text);
    } catch (err) {
      throw builtinError(name, (err as Error).message);
    }
    return keys.map(privateKeyJson);
  },
};
