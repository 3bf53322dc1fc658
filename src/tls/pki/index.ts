// Test PKI library: see src/tls/README.md ("Test PKI").
export { x509, generateKey, privateKeyPem, importPrivateKeyPem, toPem, type KeySpec, type KeyMaterial } from './crypto.js';
export {
  CertificateAuthority,
  IssuedCertificate,
  selfSigned,
  pem,
  randomSerial,
  type IssueOptions,
  type CaOptions,
  type SanSpec,
  type UsageProfile,
  type Validity,
  type KeyUsageName,
  type RevocationEntry,
} from './authority.js';
export { resign, withRawSerial, withRawSubjectCn, unknownCriticalExtension, type TbsEditor } from './odd.js';
export { rawKey, rawKeyFromPem, rawCertificate, rawCrl, rawName, keyId, ext, der, generalName, serialBytes, KU_BITS, EKU, type RawKey, type RawCert, type RawCertOptions, type RawCrlOptions, type RawExtension, type RawGeneralName, type RawAttr, type RawKeyKind } from './raw.js';
