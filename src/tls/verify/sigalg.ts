// Signature algorithms of certificates and CRLs: the key type each needs (OpenSSL's
// check_sig_alg_match), its hash, and its strength as X509_get_signature_info reports it (SHA-1
// and MD5 deliberately below 80 bits, so security level 1 refuses them).
import { children, oidString, readTlv, TAG, type Tlv } from '../der.js';
import type { SigAlg } from './model.js';

const HASH_BITS: Record<string, number> = { md5: 39, sha1: 63, sha224: 112, sha256: 128, sha384: 192, sha512: 256 };

const SIG_ALGS: Record<string, { keyAlg: SigAlg['keyAlg']; hash: string | null; pss?: boolean }> = {
  '1.2.840.113549.1.1.4': { keyAlg: 'RSA', hash: 'md5' },
  '1.2.840.113549.1.1.5': { keyAlg: 'RSA', hash: 'sha1' },
  '1.2.840.113549.1.1.14': { keyAlg: 'RSA', hash: 'sha224' },
  '1.2.840.113549.1.1.11': { keyAlg: 'RSA', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { keyAlg: 'RSA', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { keyAlg: 'RSA', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { keyAlg: 'RSA', hash: null, pss: true },
  '1.2.840.10045.4.1': { keyAlg: 'EC', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { keyAlg: 'EC', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { keyAlg: 'EC', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { keyAlg: 'EC', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { keyAlg: 'EC', hash: 'sha512' },
  '1.3.101.112': { keyAlg: 'ED25519', hash: null },
  '1.3.101.113': { keyAlg: 'ED448', hash: null },
  '1.2.840.10040.4.3': { keyAlg: 'DSA', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.1': { keyAlg: 'DSA', hash: 'sha224' },
  '2.16.840.1.101.3.4.3.2': { keyAlg: 'DSA', hash: 'sha256' },
};

const HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export function algorithm(der: Uint8Array, t: Tlv): { oid: string; params?: Tlv } {
  const [o, p] = children(der, t);
  if (o?.tag !== TAG.OID) throw new Error('bad AlgorithmIdentifier');
  return { oid: oidString(der, o), params: p };
}

function signatureAlgorithm(der: Uint8Array, oid: string, params: Tlv | undefined): SigAlg {
  const known = SIG_ALGS[oid];
  if (!known) return { keyAlg: null, pss: false, hash: null, securityBits: 0 };
  let hash = known.hash;
  if (known.pss) {
    hash = 'sha1'; // RSASSA-PSS-params default
    try {
      if (params?.tag === TAG.SEQUENCE) {
        const h = children(der, params).find((c) => c.tag === 0xa0);
        if (h) hash = HASH_OIDS[algorithm(der, readTlv(der, h.valueStart, h.end)).oid] ?? 'unknown';
      }
    } catch {
      hash = 'unknown';
    }
  }
  const securityBits = known.keyAlg === 'ED25519' ? 128 : known.keyAlg === 'ED448' ? 224 : known.pss && hash === 'sha1' ? 80 : (HASH_BITS[hash ?? ''] ?? 0);
  return { keyAlg: known.keyAlg, pss: known.pss === true, hash, securityBits };
}


/** The signature algorithm of an AlgorithmIdentifier TLV, with its parameters TLV. */
export function sigAlgOf(der: Uint8Array, algT: Tlv): { sigAlg: SigAlg; params?: Tlv } {
  const { oid, params } = algorithm(der, algT);
  return { sigAlg: signatureAlgorithm(der, oid, params), params };
}
