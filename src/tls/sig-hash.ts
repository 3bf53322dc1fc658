// The hash node:crypto's verify() takes for an X.509 signature algorithm (CRLs, OCSP responses).

const SIGNATURE_HASH: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519: no separate hash (verify takes null)
};

/** The verify() algorithm for a signature algorithm OID: a hash name, null (Ed25519), or undefined when unsupported. */
export function signatureHash(oid: string): string | null | undefined {
  return Object.hasOwn(SIGNATURE_HASH, oid) ? SIGNATURE_HASH[oid] : undefined;
}
