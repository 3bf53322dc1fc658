// Verification and signing keys for io.jwt.*: PEM certificates, PEM public keys and JWK (sets),
// read with node:crypto as OPA reads them with crypto/x509 and lestrrat-go/jwx.
import { createPrivateKey, createPublicKey, createSecretKey, X509Certificate, type KeyObject } from 'node:crypto';
import { pemDecode } from './encoding.js';

export interface VerificationKey {
  key: KeyObject;
  alg: string;
  kid: string;
}

export const TOKEN_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA']);

/** Messages are OPA's (getKeysFromCertOrJWK). */
export function keysFromCertOrJWK(text: string): VerificationKey[] {
  const block = pemDecode(text);
  if (block) {
    if (block.rest.length > 0) throw new Error('extra data after a PEM certificate block');
    if (block.type === 'CERTIFICATE') {
      try {
        return [{ key: new X509Certificate(block.der).publicKey, alg: '', kid: '' }];
      } catch (err) {
        throw new Error(`failed to parse a PEM certificate: ${(err as Error).message}`);
      }
    }
    if (block.type === 'PUBLIC KEY') {
      try {
        return [{ key: createPublicKey({ key: block.der, format: 'der', type: 'spki' }), alg: '', kid: '' }];
      } catch (err) {
        throw new Error(`failed to parse a PEM public key: ${(err as Error).message}`);
      }
    }
    throw new Error('failed to extract a Key from the PEM certificate');
  }
  let jwks: Array<Record<string, unknown>>;
  try {
    jwks = parseJWKSet(text);
  } catch (err) {
    throw new Error(`failed to parse a JWK key (set): ${(err as Error).message}`);
  }
  const out: VerificationKey[] = [];
  for (const jwk of jwks) {
    const alg = typeof jwk.alg === 'string' ? jwk.alg : '';
    if (alg !== '' && !TOKEN_ALGORITHMS.has(alg)) continue;
    let key: KeyObject;
    try {
      key = jwkToKey(jwk, false);
    } catch (err) {
      throw new Error(`failed to parse a JWK key (set): ${(err as Error).message}`);
    }
    out.push({ key, alg, kid: typeof jwk.kid === 'string' ? jwk.kid : '' });
  }
  return out;
}

export function parseJWKSet(text: string): Array<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`failed to unmarshal JSON into key (set): ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('invalid JWK: not a JSON object');
  const o = v as Record<string, unknown>;
  const list = Array.isArray(o.keys) ? (o.keys as unknown[]) : [o];
  return list.map((k) => {
    if (!k || typeof k !== 'object' || typeof (k as Record<string, unknown>).kty !== 'string') throw new Error('invalid key type from JSON ()');
    return k as Record<string, unknown>;
  });
}

/** A KeyObject from a JWK: public, or private when `priv` and the JWK has private parts. */
export function jwkToKey(jwk: Record<string, unknown>, priv: boolean): KeyObject {
  const kty = jwk.kty;
  if (kty === 'oct') {
    if (typeof jwk.k !== 'string') throw new Error('failed to parse key: required field k is missing');
    return createSecretKey(Buffer.from(jwk.k, 'base64url'));
  }
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') throw new Error(`invalid key type from JSON (${String(kty)})`);
  const clean = { ...jwk } as Record<string, unknown>;
  delete clean.alg;
  delete clean.kid;
  delete clean.use;
  delete clean.key_ops;
  delete clean.x5c;
  delete clean.x5t;
  if (priv && typeof jwk.d === 'string') return createPrivateKey({ key: clean as never, format: 'jwk' });
  return createPublicKey({ key: clean as never, format: 'jwk' });
}
