// io.jwt.* (OPA's topdown/tokens.go) with node:crypto.
import { createHmac, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { builtinError, obj, str, typeError } from './errors.js';
import { perEvaluation } from './eval-scope.js';
import { Base64Error, decodeBase64UrlLenient, goJSON } from './encoding.js';
import { jwkToKey, keysFromCertOrJWK, parseJWKSet, TOKEN_ALGORITHMS, type VerificationKey } from './keys.js';
import type { BuiltinTable } from './types.js';

interface Token {
  header: string;
  payload: string;
  signature: string;
}

function fail(name: string, msg: string): never {
  throw builtinError(name, msg);
}

function splitJWT(name: string, v: unknown): Token {
  const s = str(name, v, 1);
  if (!s.includes('.')) fail(name, 'encoded JWT had no period separators');
  const parts = s.split('.');
  if (parts.length !== 3) fail(name, `encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0], payload: parts[1], signature: parts[2] };
}

function b64(name: string, s: string, what: string): Buffer {
  try {
    return decodeBase64UrlLenient(s);
  } catch (err) {
    if (err instanceof Base64Error) fail(name, what ? `JWT ${what} had invalid encoding: ${err.message}` : err.message);
    throw err;
  }
}

function jsonObject(name: string, text: string, prefix = ''): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    fail(name, `${prefix}invalid JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(name, `${prefix}decoded JSON type was not an Object`);
  return v as Record<string, unknown>;
}

function decodeHeader(name: string, t: Token): Record<string, unknown> {
  const h = jsonObject(name, b64(name, t.header, 'header').toString('utf8'), 'bad JWT header: ');
  if (h.enc !== undefined) fail(name, 'JWT is a JWE object, which is not supported');
  return h;
}

function decode(name: string, v: unknown): unknown[] {
  const t = splitJWT(name, v);
  const header = decodeHeader(name, t);
  let p = b64(name, t.payload, 'payload').toString('utf8');
  if (header.cty === 'JWT') {
    p = p.replace(/^["']+|["']+$/g, '');
    return decode(name, p);
  }
  const payload = jsonObject(name, p);
  const sig = b64(name, t.signature, 'signature');
  return [header, payload, sig.toString('hex')];
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** jwsbb.Verify: true when `sig` is a valid `alg` signature of `data` under `key`. */
export function verifySignature(alg: string, key: KeyObject | Buffer, data: Buffer, sig: Buffer): boolean {
  try {
    const bits = alg.slice(2);
    if (alg.startsWith('HS')) {
      const secret = Buffer.isBuffer(key) ? key : key.type === 'secret' ? key.export() : undefined;
      if (!secret) return false;
      const mac = createHmac(HASH[bits], secret).update(data).digest();
      return mac.length === sig.length && timingSafeEqual(mac, sig);
    }
    if (Buffer.isBuffer(key) || key.type === 'secret') return false;
    if (alg.startsWith('RS')) return key.asymmetricKeyType === 'rsa' && cryptoVerify(HASH[bits], data, key, sig);
    if (alg.startsWith('PS')) {
      return key.asymmetricKeyType === 'rsa' && cryptoVerify(HASH[bits], data, { key, padding: 6 /* PSS */, saltLength: -2 /* auto */ }, sig);
    }
    if (alg.startsWith('ES')) {
      if (key.asymmetricKeyType !== 'ec') return false;
      return cryptoVerify(HASH[bits], data, { key, dsaEncoding: 'ieee-p1363' }, sig);
    }
    if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519' && cryptoVerify(null, data, key, sig);
  } catch {
    return false;
  }
  return false;
}

function verifyWith(name: string, alg: string, jwt: unknown, keyText: unknown): boolean {
  const t = splitJWT(name, jwt);
  const keyStr = str(name, keyText, 2);
  let keys: VerificationKey[];
  try {
    keys = keysFromCertOrJWK(keyStr);
  } catch (err) {
    fail(name, (err as Error).message);
  }
  const sig = b64(name, t.signature, '');
  const header = decodeHeader(name, t);
  const data = Buffer.from(`${t.header}.${t.payload}`);
  const kid = typeof header.kid === 'string' ? header.kid : '';
  const hAlg = typeof header.alg === 'string' ? header.alg : '';
  if (kid) {
    const k = keys.find((x) => x.kid === kid);
    if (k) return verifySignature(alg, k.key, data, sig);
  }
  for (const k of keys) {
    if (k.alg !== '' && k.alg !== hAlg) continue;
    if (verifySignature(alg, k.key, data, sig)) return true;
  }
  return false;
}

function verifyHS(name: string, alg: string, jwt: unknown, secret: unknown): boolean {
  const s = str(name, jwt, 1);
  const key = str(name, secret, 2);
  const t = splitJWT(name, s);
  const sig = b64(name, t.signature, '');
  return verifySignature(alg, Buffer.from(key), Buffer.from(`${t.header}.${t.payload}`), sig);
}

interface Constraints {
  secret: string;
  alg: string;
  iss: string;
  aud: string;
  keys?: VerificationKey[];
  time: number;
}

function timeFrom(name: string, v: unknown): number {
  if (typeof v !== 'number') fail(name, 'token time constraint: must be a number');
  if (v < 0) fail(name, 'token time constraint: must not be negative');
  return v;
}

function parseConstraints(name: string, o: Record<string, unknown>): Constraints {
  const c: Constraints = { secret: '', alg: '', iss: '', aud: '', time: -1 };
  for (const [k, v] of Object.entries(o)) {
    switch (k) {
      case 'cert':
        if (typeof v !== 'string') fail(name, 'cert constraint: must be a string');
        try {
          c.keys = keysFromCertOrJWK(v);
        } catch (err) {
          fail(name, (err as Error).message);
        }
        break;
      case 'secret':
      case 'alg':
      case 'iss':
      case 'aud':
        if (typeof v !== 'string') fail(name, `${k} constraint: must be a string`);
        c[k] = v;
        break;
      case 'time':
        c.time = timeFrom(name, v);
        break;
      default:
        fail(name, `unknown token validation constraint: ${k}`);
    }
  }
  if (c.time === -1) c.time = Number(nowNs());
  const n = (c.keys ? 1 : 0) + (c.secret !== '' ? 1 : 0);
  if (n > 1) fail(name, 'duplicate key constraints');
  if (n < 1) fail(name, 'no key constraint');
  return c;
}

/** The evaluation's clock, shared with time.now_ns. */
function nowNs(): bigint {
  return perEvaluation('time.now_ns', () => BigInt(Date.now()) * 1000000n);
}

function headerValid(h: Record<string, unknown>): { ok: boolean; alg: string; kid: string; cty: string } | string {
  const fields: Record<string, string> = {};
  let crit: Set<string> | undefined;
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(h)) {
    if (k === 'alg' || k === 'kid' || k === 'typ' || k === 'cty') {
      if (typeof v !== 'string') return `${k}: must be a string`;
      fields[k] = v;
    } else if (k === 'crit') {
      if (!Array.isArray(v)) return 'crit: must be a list';
      crit = new Set(v.filter((x): x is string => typeof x === 'string'));
      if (crit.size === 0) return 'crit: must be a nonempty list';
    } else unknown.push(k);
  }
  const ok = !!fields.alg && !unknown.some((u) => crit?.has(u));
  return { ok, alg: fields.alg ?? '', kid: fields.kid ?? '', cty: fields.cty ?? '' };
}

function decodeVerify(jwt: unknown, constraintsArg: unknown): unknown[] {
  const name = 'io.jwt.decode_verify';
  const unverified = [false, {}, {}];
  const c = parseConstraints(name, obj(name, constraintsArg, 2));
  let a: unknown = jwt;
  let header: Record<string, unknown>;
  let payloadText: string;
  for (;;) {
    const t = splitJWT(name, a);
    header = decodeHeader(name, t);
    const h = headerValid(header);
    if (typeof h === 'string') fail(name, h);
    if (!h.ok) return unverified;
    if (c.alg !== '' && c.alg !== h.alg) return unverified;
    const sig = b64(name, t.signature, '');
    const data = Buffer.from(`${t.header}.${t.payload}`);
    let verified = false;
    if (c.keys) {
      const byKid = h.kid ? c.keys.find((k) => k.kid === h.kid) : undefined;
      if (byKid) verified = verifySignature(h.alg, byKid.key, data, sig);
      else verified = c.keys.some((k) => (k.alg === '' || k.alg === h.alg) && verifySignature(h.alg, k.key, data, sig));
    } else verified = TOKEN_ALGORITHMS.has(h.alg) && verifySignature(h.alg, Buffer.from(c.secret), data, sig);
    if (!verified) return unverified;
    payloadText = b64(name, t.payload, 'payload').toString('utf8');
    if (h.cty.toUpperCase() === 'JWT') {
      a = payloadText;
      continue;
    }
    break;
  }
  const payload = jsonObject(name, payloadText);
  if (c.iss !== '' && payload.iss !== c.iss) return unverified;
  const aud = payload.aud;
  if (aud !== undefined) {
    const ok = typeof aud === 'string' ? aud === c.aud : Array.isArray(aud) && aud.some((x) => typeof x === 'string' && x === c.aud);
    if (!ok) return unverified;
  } else if (c.aud !== '') return unverified;
  const now = c.time / 1e9;
  if (payload.exp !== undefined) {
    if (typeof payload.exp !== 'number') fail(name, 'exp value must be a number');
    if (now >= payload.exp) return unverified;
  }
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number') fail(name, 'nbf value must be a number');
    if (now < payload.nbf) return unverified;
  }
  return [true, header, payload];
}

/** jwsbb.HeaderGetString(headers, name) error texts. */
function headerString(headers: string, field: string): string {
  if (headers.trim() === '') throw new Error('cannot parse JSON: cannot parse empty string');
  let v: unknown;
  try {
    v = JSON.parse(headers);
  } catch (err) {
    // jwsbb only reports a parse error for text that looks like an object
    if (!headers.trimStart().startsWith('{')) throw new Error(`jwsbb: header "${field}" not found`);
    throw new Error(`cannot parse JSON: ${(err as Error).message}`);
  }
  const o = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  if (!(field in o)) throw new Error(`jwsbb: header "${field}" not found`);
  if (typeof o[field] !== 'string') throw new Error(`jwsbb: header "${field}" is not a string`);
  return o[field] as string;
}

function isJSON(s: string): boolean {
  try {
    JSON.parse(s);
    return s.trim() !== '';
  } catch {
    return false;
  }
}

function encodeSign(name: string, headers: string, payload: string, jwkText: string): string {
  let jwks: Array<Record<string, unknown>>;
  try {
    jwks = parseJWKSet(jwkText);
  } catch (err) {
    fail(name, (err as Error).message);
  }
  if (jwks.length === 0) fail(name, 'no keys found in JWK set');
  let alg: string;
  try {
    alg = headerString(headers, 'alg');
  } catch (err) {
    fail(name, `missing or invalid 'alg' header: ${(err as Error).message}`);
  }
  if (!TOKEN_ALGORITHMS.has(alg)) fail(name, `unknown JWS algorithm: ${alg}`);
  let typ: string | undefined;
  try {
    typ = headerString(headers, 'typ');
  } catch {
    typ = undefined;
  }
  if ((typ === undefined || typ === 'JWT') && !isJSON(payload)) fail(name, 'type is JWT but payload is not JSON');
  const signingInput = `${Buffer.from(headers).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  let key: KeyObject;
  try {
    key = jwkToKey(jwks[0], true);
  } catch (err) {
    fail(name, (err as Error).message);
  }
  const data = Buffer.from(signingInput);
  const bits = alg.slice(2);
  let sig: Buffer;
  try {
    if (alg.startsWith('HS')) {
      if (key.type !== 'secret') throw new Error(`invalid key type for ${alg}`);
      sig = createHmac(HASH[bits], key.export()).update(data).digest();
    } else if (key.type !== 'private') throw new Error(`failed to sign: ${alg} needs a private key`);
    else if (alg.startsWith('RS')) sig = cryptoSign(HASH[bits], data, key);
    else if (alg.startsWith('PS')) sig = cryptoSign(HASH[bits], data, { key, padding: 6, saltLength: -1 /* digest length */ });
    else if (alg.startsWith('ES')) sig = cryptoSign(HASH[bits], data, { key, dsaEncoding: 'ieee-p1363' });
    else sig = cryptoSign(null, data, key);
  } catch (err) {
    fail(name, (err as Error).message);
  }
  return `${signingInput}.${sig.toString('base64url')}`;
}

const table: BuiltinTable = {
  'io.jwt.decode': (jwt) => decode('io.jwt.decode', jwt),
  'io.jwt.decode_verify': (jwt, constraints) => decodeVerify(jwt, constraints),
  'io.jwt.encode_sign_raw': (headers, payload, key) => {
    const name = 'io.jwt.encode_sign_raw';
    const k = str(name, key, 3);
    return encodeSign(name, str(name, headers, 1), str(name, payload, 2), k);
  },
  'io.jwt.encode_sign': (headers, payload, key) => {
    const name = 'io.jwt.encode_sign';
    if (!headers || typeof headers !== 'object' || Array.isArray(headers)) throw typeError(name, 1, headers, 'object');
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw typeError(name, 2, payload, 'object');
    if (!key || typeof key !== 'object' || Array.isArray(key)) throw typeError(name, 3, key, 'object');
    return encodeSign(name, goJSON(headers), goJSON(payload), goJSON(key));
  },
};
for (const bits of ['256', '384', '512']) {
  for (const fam of ['rs', 'ps', 'es']) {
    const name = `io.jwt.verify_${fam}${bits}`;
    table[name] = (jwt, key) => verifyWith(name, `${fam.toUpperCase()}${bits}`, jwt, key);
  }
  const hs = `io.jwt.verify_hs${bits}`;
  table[hs] = (jwt, secret) => verifyHS(hs, `HS${bits}`, jwt, secret);
}
table['io.jwt.verify_eddsa'] = (jwt, key) => verifyWith('io.jwt.verify_eddsa', 'EdDSA', jwt, key);

export const jwtBuiltins: BuiltinTable = table;
