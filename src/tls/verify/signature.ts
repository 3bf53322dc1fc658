// Signature checks for certificates and CRLs (X509_verify / X509_CRL_verify) with node:crypto.
// Public keys and verdicts are cached: the same CA keys and the same peers recur on every
// connection, and a KeyObject costs more to make than a verification.
import { createPublicKey, verify, constants, type KeyObject } from 'node:crypto';
import { children, readTlv, oidString, TAG } from '../der.js';
import { sameBytes, type CertModel, type SigAlg, type Signed } from './model.js';

const keys = new Map<string, KeyObject | null>();
const verdicts = new Map<string, boolean>();
const MAX = 4096;

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** The certificate's public key for node:crypto, or null when it cannot be decoded. */
export function publicKeyOf(x: CertModel): KeyObject | null {
  const k = latin1(x.spki);
  let key = keys.get(k);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.from(x.spki), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
    if (keys.size >= MAX) keys.delete(keys.keys().next().value as string);
    keys.set(k, key);
  }
  return key;
}


/** X509_verify(subject, issuer's key): algorithm fields consistent and the signature valid. */
export function signatureValid(subject: Signed, issuer: CertModel): boolean {
  const cacheKey = subject.sha256 + issuer.sha256;
  const hit = verdicts.get(cacheKey);
  if (hit !== undefined) return hit;
  const ok = check(subject, issuer);
  if (verdicts.size >= MAX) verdicts.delete(verdicts.keys().next().value as string);
  verdicts.set(cacheKey, ok);
  return ok;
}

function check(s: Signed, issuer: CertModel): boolean {
  if (!sameBytes(s.tbsSigAlg, s.outerSigAlg) || !s.signature) return false;
  const key = publicKeyOf(issuer);
  if (!key || s.sigAlg.keyAlg === null) return false;
  try {
    if (s.sigAlg.pss) {
      const p = pssParams(s.sigParams);
      if (!p) return false;
      return verify(p.hash, s.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength }, s.signature);
    }
    if (s.sigAlg.keyAlg === 'ED25519' || s.sigAlg.keyAlg === 'ED448') return verify(null, s.tbs, key, s.signature);
    if (s.sigAlg.keyAlg === 'EC' || s.sigAlg.keyAlg === 'DSA') return verify(s.sigAlg.hash!, s.tbs, { key, dsaEncoding: 'der' }, s.signature);
    return verify(s.sigAlg.hash!, s.tbs, key, s.signature);
  } catch {
    return false;
  }
}

const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** RSASSA-PSS-params: hash (default SHA-1) and salt length (default 20). */
function pssParams(params: Uint8Array | undefined): { hash: string; saltLength: number } | undefined {
  let hash = 'sha1';
  let saltLength = 20;
  if (!params || params[0] === TAG.NULL) return { hash, saltLength };
  const seq = readTlv(params, 0);
  for (const f of children(params, seq)) {
    const inner = readTlv(params, f.valueStart, f.end);
    if (f.tag === 0xa0) {
      const h = HASHES[oidString(params, readTlv(params, inner.valueStart, inner.end))];
      if (!h) return undefined;
      hash = h;
    } else if (f.tag === 0xa2) {
      let n = 0;
      for (let i = inner.valueStart; i < inner.end; i++) n = n * 256 + params[i];
      saltLength = n;
    }
  }
  return { hash, saltLength };
}

/** Empties the verdict cache (benchmarks measure first verifications with it). */
export function clearSignatureCache(): void {
  verdicts.clear();
}
