// One place that wires @peculiar/x509 to Node's WebCrypto (it needs a Reflect polyfill first),
// plus key generation and PEM export shared by the PKI helpers.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as nodeCrypto from 'node:crypto';
import { webcrypto, KeyObject } from 'node:crypto';
import { toPem } from '../pem.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
export const subtle = webcrypto.subtle;

/** Which key to generate: `ec` (P-256), `rsa` (2048), or a detailed spec. */
export type KeySpec =
  | 'ec'
  | 'rsa'
  | { alg: 'ec'; curve?: 'P-256' | 'P-384' | 'P-521' }
  | { alg: 'rsa'; bits?: number };

export interface KeyMaterial {
  keys: CryptoKeyPair;
  /** Algorithm used when this key signs certificates and CRLs. */
  signingAlgorithm: Algorithm & { hash?: string; namedCurve?: string; modulusLength?: number; publicExponent?: Uint8Array };
  spec: { alg: 'ec'; curve: string } | { alg: 'rsa'; bits: number };
}

const CURVE_HASH: Record<string, string> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' };

export async function generateKey(spec: KeySpec = 'ec'): Promise<KeyMaterial> {
  const s = typeof spec === 'string' ? { alg: spec } : spec;
  if (s.alg === 'rsa') {
    const bits = ('bits' in s && s.bits) || 2048;
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits };
    const keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    return { keys, signingAlgorithm: alg, spec: { alg: 'rsa', bits } };
  }
  const curve = ('curve' in s && s.curve) || 'P-256';
  const alg = { name: 'ECDSA', namedCurve: curve, hash: CURVE_HASH[curve] ?? 'SHA-256' };
  const keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { keys, signingAlgorithm: alg, spec: { alg: 'ec', curve } };
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  return toPem(der, 'PRIVATE KEY');
}

export { toPem };

/** Imports a PKCS#8 PEM private key back into WebCrypto (for CAs stored on disk). */
export async function importPrivateKeyPem(pem: string): Promise<KeyMaterial> {
  const ko = nodeCrypto.createPrivateKey(pem);
  const der = ko.export({ type: 'pkcs8', format: 'der' });
  if (ko.asymmetricKeyType === 'rsa') {
    const bits = ko.asymmetricKeyDetails?.modulusLength ?? 2048;
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const privateKey = await subtle.importKey('pkcs8', der, alg, true, ['sign']);
    const pub = nodeCrypto.createPublicKey(ko).export({ type: 'spki', format: 'der' });
    const publicKey = await subtle.importKey('spki', pub, alg, true, ['verify']);
    return { keys: { privateKey, publicKey }, signingAlgorithm: { ...alg, publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits }, spec: { alg: 'rsa', bits } };
  }
  if (ko.asymmetricKeyType === 'ec') {
    const nodeCurve = ko.asymmetricKeyDetails?.namedCurve ?? 'prime256v1';
    const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[nodeCurve] ?? 'P-256';
    const alg = { name: 'ECDSA', namedCurve: curve };
    const privateKey = await subtle.importKey('pkcs8', der, alg, true, ['sign']);
    const pub = nodeCrypto.createPublicKey(ko).export({ type: 'spki', format: 'der' });
    const publicKey = await subtle.importKey('spki', pub, alg, true, ['verify']);
    return { keys: { privateKey, publicKey }, signingAlgorithm: { ...alg, hash: CURVE_HASH[curve] }, spec: { alg: 'ec', curve } };
  }
  throw new Error(`unsupported CA key type ${ko.asymmetricKeyType}`);
}

/** DER signature with a WebCrypto private key (ECDSA as DER, as X.509 wants). */
export function signDer(key: CryptoKey, hash: string, data: Uint8Array): Buffer {
  const ko = KeyObject.from(key);
  return nodeCrypto.sign(hash.replace('-', '').toLowerCase(), data, { key: ko, dsaEncoding: 'der' });
}
