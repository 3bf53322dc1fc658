// Bundle signatures as OPA writes and checks them (v1/bundle/sign.go, verify.go, hash.go):
// `.signatures.json` holds one JWS (compact JWT) whose payload lists every file of the bundle
// with its SHA-256. Structured files (data.json, data.yaml, .manifest) are hashed over their
// parsed value, object keys sorted, so whitespace does not matter; other files over their bytes.
import { createHash, createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, constants, timingSafeEqual, type KeyObject } from 'node:crypto';
import YAML from 'yaml';

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

export interface FileInfo {
  name: string;
  hash: string;
  algorithm: string;
}

/** One verification key (OPA's `keys.<id>`): an algorithm and a PEM public key (or HMAC secret). */
export interface VerificationKey {
  algorithm?: string;
  key: string;
  scope?: string;
}

/** OPA's bundle `signing` (verification) options. */
export interface VerificationConfig {
  keys: Record<string, VerificationKey>;
  /** Key to use; default: the token's `kid` header, then its `keyid` claim. */
  keyid?: string;
  scope?: string;
  /** Bundle files left out of verification (Go filepath.Match patterns on the file path). */
  exclude_files?: string[];
}

const HASH = 'SHA-256';

// ---- hashing -------------------------------------------------------------------------------

/** A JSON number kept as its literal text (Go decodes with UseNumber, and hashes the text). */
class JsonNumber {
  constructor(readonly text: string) {}
}

/** JSON.parse, except that numbers keep their source text. */
function parseJsonExact(s: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < s.length && ' \t\n\r'.includes(s[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (s[i] === '}') return i++, o;
      for (;;) {
        ws();
        const k = value() as string;
        ws();
        if (s[i++] !== ':') throw new SyntaxError(`invalid JSON at ${i}`);
        o[k] = value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === '}') return i++, o;
        else throw new SyntaxError(`invalid JSON at ${i}`);
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (s[i] === ']') return i++, a;
      for (;;) {
        a.push(value());
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === ']') return i++, a;
        else throw new SyntaxError(`invalid JSON at ${i}`);
      }
    }
    if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(s.slice(i));
      if (!m) throw new SyntaxError(`invalid JSON string at ${i}`);
      i += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(s.slice(i));
    if (!m) throw new SyntaxError(`invalid JSON at ${i}`);
    i += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    if (m[0] === 'null') return null;
    return new JsonNumber(m[0]);
  };
  const v = value();
  ws();
  if (i !== s.length) throw new SyntaxError(`invalid JSON: trailing data at ${i}`);
  return v;
}

/** Go's encoding/json for a string with SetEscapeHTML(false). */
function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function encodePrimitive(v: unknown): string {
  if (v instanceof JsonNumber) return v.text;
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (v === undefined) return 'null';
  return JSON.stringify(v);
}

function walk(v: unknown, out: Array<string | Uint8Array>): void {
  if (v instanceof Uint8Array) out.push(v);
  else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((e, i) => {
      if (i > 0) out.push(',');
      walk(e, out);
    });
    out.push(']');
  } else if (v !== null && typeof v === 'object' && !(v instanceof JsonNumber)) {
    out.push('{');
    Object.keys(v)
      .sort()
      .forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(goJsonString(k), ':');
        walk((v as Record<string, unknown>)[k], out);
      });
    out.push('}');
  } else out.push(encodePrimitive(v));
}

/** OPA's HashingAlgorithm names -> node:crypto digests. */
const DIGESTS: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

/** OPA's SignatureHasher over a parsed value or raw bytes (SHA-256 unless told). */
export function hashValue(v: unknown, algorithm = HASH): string {
  const digest = DIGESTS[algorithm];
  if (!digest) throw new SignatureError(`unsupported hashing algorithm: ${algorithm}`);
  const h = createHash(digest);
  const parts: Array<string | Uint8Array> = [];
  walk(v, parts);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

const STRUCTURED = new Set(['data.json', 'data.yaml', 'data.yml', '.manifest']);

/** The hash of one bundle file as OPA's verifier computes it. */
export function hashBundleFile(path: string, bytes: Uint8Array, algorithm = HASH): string {
  const base = path.split('/').pop()!;
  if (!STRUCTURED.has(base)) return hashValue(bytes, algorithm);
  const text = Buffer.from(bytes).toString('utf8');
  return hashValue(base.endsWith('.json') || base === '.manifest' ? parseJsonExact(text) : YAML.parse(text), algorithm);
}

// ---- JWS -----------------------------------------------------------------------------------

const b64url = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

type Family = 'RS' | 'PS' | 'ES' | 'HS' | 'EdDSA';

function algorithm(alg: string): { family: Family; hash: string | null } {
  if (alg === 'EdDSA') return { family: 'EdDSA', hash: null };
  const m = /^(RS|PS|ES|HS)(256|384|512)$/.exec(alg);
  if (!m) throw new SignatureError(`unknown signature algorithm: ${alg}`);
  return { family: m[1] as Family, hash: `sha${m[2]}` };
}

function signingKey(key: string, family: Family): KeyObject | Buffer {
  if (family === 'HS') return Buffer.from(key, 'utf8');
  try {
    return createPrivateKey(key);
  } catch {
    throw new SignatureError('failed to parse PEM block containing the key');
  }
}

function verificationKey(key: string, family: Family): KeyObject | Buffer {
  if (family === 'HS') return Buffer.from(key, 'utf8');
  try {
    return createPublicKey(key);
  } catch {
    throw new SignatureError('failed to parse PEM block containing the key');
  }
}

function rawSign(alg: string, key: string, data: Buffer): Buffer {
  const { family, hash } = algorithm(alg);
  const k = signingKey(key, family);
  switch (family) {
    case 'HS':
      return createHmac(hash!, k as Buffer).update(data).digest();
    case 'RS':
      return cryptoSign(hash, data, k as KeyObject);
    case 'PS':
      return cryptoSign(hash, data, { key: k as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    case 'ES':
      return cryptoSign(hash, data, { key: k as KeyObject, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return cryptoSign(null, data, k as KeyObject);
  }
}

function rawVerify(alg: string, key: string, data: Buffer, sig: Buffer): boolean {
  const { family, hash } = algorithm(alg);
  const k = verificationKey(key, family);
  switch (family) {
    case 'HS': {
      const want = createHmac(hash!, k as Buffer).update(data).digest();
      return want.length === sig.length && timingSafeEqual(want, sig);
    }
    case 'RS':
      return cryptoVerify(hash, data, k as KeyObject, sig);
    case 'PS':
      return cryptoVerify(hash, data, { key: k as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
    case 'ES':
      return cryptoVerify(hash, data, { key: k as KeyObject, dsaEncoding: 'ieee-p1363' }, sig);
    case 'EdDSA':
      return cryptoVerify(null, data, k as KeyObject, sig);
  }
}

export interface SigningOptions {
  /** PEM private key (RS/PS/ES/EdDSA) or HMAC secret (HS). */
  key: string;
  /** Default RS256, as `opa build --signing-alg`. */
  algorithm?: string;
  /** `kid` header and (without claims) the deprecated `keyid` claim. */
  keyId?: string;
  /** Extra claims (OPA's --claims-file); they replace the `keyid` claim. */
  claims?: Record<string, unknown>;
}

/** OPA's DefaultSigner: a JWS over `{"files": [...], "keyid"?: ...}`. */
export function signFiles(files: FileInfo[], o: SigningOptions): string {
  const alg = o.algorithm ?? 'RS256';
  algorithm(alg);
  const header: Record<string, string> = { alg };
  if (o.keyId) header.kid = o.keyId;
  const payload: Record<string, unknown> = { files };
  if (o.claims) Object.assign(payload, o.claims);
  else if (o.keyId) payload.keyid = o.keyId;
  const sortedPayload = Object.fromEntries(Object.keys(payload).sort().map((k) => [k, payload[k]]));
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(sortedPayload))}`;
  return `${input}.${b64url(rawSign(alg, o.key, Buffer.from(input)))}`;
}

/** The `.signatures.json` of a bundle whose files are given (paths without a leading slash). */
export function signaturesFile(files: Array<{ path: string; bytes: Uint8Array }>, o: SigningOptions): string {
  const infos = files.map((f) => ({ name: f.path.replace(/^\/+/, ''), hash: hashBundleFile(f.path, f.bytes), algorithm: HASH }));
  return JSON.stringify({ signatures: [signFiles(infos, o)] }, null, ' ');
}

/** OPA's DefaultVerifier: the files the one JWT of `.signatures.json` vouches for. */
export function verifySignatures(signaturesJson: Uint8Array, cfg: VerificationConfig): Map<string, FileInfo> {
  let sc: { signatures?: unknown };
  try {
    sc = JSON.parse(Buffer.from(signaturesJson).toString('utf8')) as { signatures?: unknown };
  } catch (e) {
    throw new SignatureError(`bundle load failed on signatures decode: ${(e as Error).message}`);
  }
  const tokens = Array.isArray(sc?.signatures) ? sc.signatures : [];
  if (tokens.length === 0) throw new SignatureError('.signatures.json: missing JWT (expected exactly one)');
  if (tokens.length > 1) throw new SignatureError('.signatures.json: multiple JWTs not supported (expected exactly one)');
  const token = String(tokens[0]);
  const parts = token.split('.');
  if (parts.length !== 3) throw new SignatureError('failed to split compact JWT: invalid number of segments');
  let header: Record<string, unknown>;
  let payload: { files?: FileInfo[]; keyid?: string; scope?: string };
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new SignatureError(`failed to parse JWT headers: ${(e as Error).message}`);
  }
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof payload;
  } catch (e) {
    throw new SignatureError(`failed to base64 decode JWT payload: ${(e as Error).message}`);
  }
  const keyId = cfg.keyid || (typeof header.kid === 'string' ? header.kid : '') || payload.keyid || '';
  if (!keyId) throw new SignatureError('verification key ID is empty');
  const key = cfg.keys[keyId];
  if (!key) throw new SignatureError(`verification key corresponding to ID ${keyId} not found`);
  const alg = key.algorithm ?? 'RS256';
  if (header.alg !== alg) throw new SignatureError(`failed to verify JWT signature: algorithm "${String(header.alg)}" does not match key algorithm "${alg}"`);
  let ok = false;
  try {
    ok = rawVerify(alg, key.key, Buffer.from(`${parts[0]}.${parts[1]}`), Buffer.from(parts[2]!, 'base64url'));
  } catch (e) {
    if (e instanceof SignatureError) throw e;
    throw new SignatureError(`failed to verify JWT signature: ${(e as Error).message}`);
  }
  if (!ok) throw new SignatureError('failed to verify JWT signature: verification error');
  const scope = cfg.scope || key.scope || '';
  if ((payload.scope ?? '') !== scope) throw new SignatureError('scope mismatch');
  const files = new Map<string, FileInfo>();
  for (const f of payload.files ?? []) files.set(f.name, f);
  return files;
}

/** Go's filepath.Match on a bundle path (`*` does not cross `/`). */
function globMatch(pattern: string, path: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`).test(path);
}

/**
 * Verifies every file of a bundle against its signature (OPA's Reader with a verification
 * config): each file must be listed with the right digest, and each listed file must be there.
 */
export function verifyBundleFiles(files: Array<{ path: string; bytes: Uint8Array }>, cfg: VerificationConfig): void {
  const sig = files.find((f) => f.path === '.signatures.json');
  if (!sig) throw new SignatureError('bundle missing .signatures.json file');
  const signed = verifySignatures(sig.bytes, cfg);
  for (const f of files) {
    if (f.path === '.signatures.json' || (cfg.exclude_files ?? []).some((p) => globMatch(p, f.path))) continue;
    const info = signed.get(f.path);
    if (!info) throw new SignatureError(`file ${f.path} not included in bundle signature`);
    if (!info.algorithm) throw new SignatureError(`no hashing algorithm provided for file ${f.path}`);
    const got = hashBundleFile(f.path, f.bytes, info.algorithm);
    if (got !== info.hash) throw new SignatureError(`${f.path}: digest mismatch (want: ${info.hash}, got: ${got})`);
    signed.delete(f.path);
  }
  if (signed.size > 0) throw new SignatureError(`file(s) [${[...signed.keys()].join(' ')}] specified in bundle signatures but not found in the target bundle`);
}
