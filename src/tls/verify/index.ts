// Certificate path validation that reaches OpenSSL's verdicts (see chain.ts), shared by live
// connections, `bastion cert inspect` and re-verification of open connections.
export { verifyChain, type VerifyOptions, type VerifyResult, type VerifyEvent } from './chain.js';
export { TrustStore } from './store.js';
export { parseCertificate, CertModelError, MAX_CERT_BYTES, type CertModel } from './model.js';
export { type Purpose } from './purpose.js';
export { errorName, errorNameOfText, errorText, nodeErrorName, OPENSSL_VERIFY_CONTINUES } from './codes.js';
export { sameName, nameFromDer, type Name } from './names.js';

import { clearModelCache } from './model.js';
import { clearSignatureCache } from './signature.js';

/** Forgets parsed certificates and signature verdicts (benchmarks: a peer never seen before). */
export function clearVerifierCaches(): void {
  clearModelCache();
  clearSignatureCache();
}
