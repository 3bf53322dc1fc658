// The purpose check OpenSSL applies during a handshake (X509_check_purpose with "ssl_client" when a
// server verifies a client, "ssl_server" when a client verifies a server), for offline use by
// `bastion cert inspect`. Mirrors OpenSSL 3.0 (crypto/x509/v3_purp.c):
//  - every certificate with an EKU extension must list the purpose's EKU (anyExtendedKeyUsage alone
//    does not count); for a server, the old SGC OIDs count too;
//  - the peer's key usage, when present, must allow the handshake: digitalSignature or keyAgreement
//    for a client; digitalSignature, keyEncipherment or keyAgreement for a server.
// A failure is INVALID_PURPOSE, Node's name for X509_V_ERR_INVALID_PURPOSE.
import type { CertInfo } from './certinfo.js';

export type Purpose = 'client' | 'server';

const EKU_FOR: Record<Purpose, string[]> = {
  client: ['clientAuth'],
  server: ['serverAuth', '2.16.840.1.113730.4.1', '1.3.6.1.4.1.311.10.3.3'],
};
const KU_FOR: Record<Purpose, string[]> = {
  client: ['digitalSignature', 'keyAgreement'],
  server: ['digitalSignature', 'keyEncipherment', 'keyAgreement'],
};

/** Null when `chain` (peer first) may serve `purpose`; else INVALID_PURPOSE. */
export function purposeError(chain: CertInfo[], purpose: Purpose): 'INVALID_PURPOSE' | null {
  for (const c of chain) {
    if (c.ext_key_usage.length > 0 && !c.ext_key_usage.some((e) => EKU_FOR[purpose].includes(e))) return 'INVALID_PURPOSE';
  }
  const leaf = chain[0];
  if (leaf && leaf.key_usage.length > 0 && !leaf.key_usage.some((k) => KU_FOR[purpose].includes(k))) return 'INVALID_PURPOSE';
  return null;
}
