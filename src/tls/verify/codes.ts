// OpenSSL's certificate verification codes (X509_V_ERR_*, OpenSSL 3.0) by name, with their numbers
// and X509_verify_cert_error_string() texts. The identity document's verify_error is the name
// without the X509_V_ERR_ prefix (CERT_HAS_EXPIRED, PERMITTED_VIOLATION...), which is what Node
// reports for the codes it names; for the others Node's socket.authorizationError only says
// UNSPECIFIED (nodeErrorName()).

const TABLE: [number, string, string][] = [
  [1, 'UNSPECIFIED', 'unspecified certificate verification error'],
  [2, 'UNABLE_TO_GET_ISSUER_CERT', 'unable to get issuer certificate'],
  [3, 'UNABLE_TO_GET_CRL', 'unable to get certificate CRL'],
  [4, 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', "unable to decrypt certificate's signature"],
  [5, 'UNABLE_TO_DECRYPT_CRL_SIGNATURE', "unable to decrypt CRL's signature"],
  [6, 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'unable to decode issuer public key'],
  [7, 'CERT_SIGNATURE_FAILURE', 'certificate signature failure'],
  [8, 'CRL_SIGNATURE_FAILURE', 'CRL signature failure'],
  [9, 'CERT_NOT_YET_VALID', 'certificate is not yet valid'],
  [10, 'CERT_HAS_EXPIRED', 'certificate has expired'],
  [11, 'CRL_NOT_YET_VALID', 'CRL is not yet valid'],
  [12, 'CRL_HAS_EXPIRED', 'CRL has expired'],
  [13, 'ERROR_IN_CERT_NOT_BEFORE_FIELD', "format error in certificate's notBefore field"],
  [14, 'ERROR_IN_CERT_NOT_AFTER_FIELD', "format error in certificate's notAfter field"],
  [15, 'ERROR_IN_CRL_LAST_UPDATE_FIELD', "format error in CRL's lastUpdate field"],
  [16, 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', "format error in CRL's nextUpdate field"],
  [17, 'OUT_OF_MEM', 'out of memory'],
  [18, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
  [19, 'SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
  [20, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'],
  [21, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
  [22, 'CERT_CHAIN_TOO_LONG', 'certificate chain too long'],
  [23, 'CERT_REVOKED', 'certificate revoked'],
  [24, 'NO_ISSUER_PUBLIC_KEY', "issuer certificate doesn't have a public key"],
  [25, 'PATH_LENGTH_EXCEEDED', 'path length constraint exceeded'],
  [26, 'INVALID_PURPOSE', 'unsuitable certificate purpose'],
  [27, 'CERT_UNTRUSTED', 'certificate not trusted'],
  [28, 'CERT_REJECTED', 'certificate rejected'],
  [29, 'SUBJECT_ISSUER_MISMATCH', 'subject issuer mismatch'],
  [30, 'AKID_SKID_MISMATCH', 'authority and subject key identifier mismatch'],
  [31, 'AKID_ISSUER_SERIAL_MISMATCH', 'authority and issuer serial number mismatch'],
  [32, 'KEYUSAGE_NO_CERTSIGN', 'key usage does not include certificate signing'],
  [33, 'UNABLE_TO_GET_CRL_ISSUER', 'unable to get CRL issuer certificate'],
  [34, 'UNHANDLED_CRITICAL_EXTENSION', 'unhandled critical extension'],
  [35, 'KEYUSAGE_NO_CRL_SIGN', 'key usage does not include CRL signing'],
  [36, 'UNHANDLED_CRITICAL_CRL_EXTENSION', 'unhandled critical CRL extension'],
  [37, 'INVALID_NON_CA', 'invalid non-CA certificate (has CA markings)'],
  [38, 'PROXY_PATH_LENGTH_EXCEEDED', 'proxy path length constraint exceeded'],
  [39, 'KEYUSAGE_NO_DIGITAL_SIGNATURE', 'key usage does not include digital signature'],
  [40, 'PROXY_CERTIFICATES_NOT_ALLOWED', 'proxy certificates not allowed, please set the appropriate flag'],
  [41, 'INVALID_EXTENSION', 'invalid or inconsistent certificate extension'],
  [42, 'INVALID_POLICY_EXTENSION', 'invalid or inconsistent certificate policy extension'],
  [43, 'NO_EXPLICIT_POLICY', 'no explicit policy'],
  [44, 'DIFFERENT_CRL_SCOPE', 'different CRL scope'],
  [45, 'UNSUPPORTED_EXTENSION_FEATURE', 'unsupported extension feature'],
  [46, 'UNNESTED_RESOURCE', "RFC 3779 resource not subset of parent's resources"],
  [47, 'PERMITTED_VIOLATION', 'permitted subtree violation'],
  [48, 'EXCLUDED_VIOLATION', 'excluded subtree violation'],
  [49, 'SUBTREE_MINMAX', 'name constraints minimum and maximum not supported'],
  [51, 'UNSUPPORTED_CONSTRAINT_TYPE', 'unsupported name constraint type'],
  [52, 'UNSUPPORTED_CONSTRAINT_SYNTAX', 'unsupported or invalid name constraint syntax'],
  [53, 'UNSUPPORTED_NAME_SYNTAX', 'unsupported or invalid name syntax'],
  [54, 'CRL_PATH_VALIDATION_ERROR', 'CRL path validation error'],
  [62, 'HOSTNAME_MISMATCH', 'hostname mismatch'],
  [63, 'EMAIL_MISMATCH', 'email address mismatch'],
  [64, 'IP_ADDRESS_MISMATCH', 'IP address mismatch'],
  [66, 'EE_KEY_TOO_SMALL', 'EE certificate key too weak'],
  [67, 'CA_KEY_TOO_SMALL', 'CA certificate key too weak'],
  [68, 'CA_MD_TOO_WEAK', 'CA signature digest algorithm too weak'],
  [74, 'OCSP_VERIFY_FAILED', 'OCSP verification failed'],
  [75, 'OCSP_CERT_UNKNOWN', 'OCSP unknown cert'],
  [76, 'UNSUPPORTED_SIGNATURE_ALGORITHM', 'Cannot find certificate signature algorithm'],
  [77, 'SIGNATURE_ALGORITHM_MISMATCH', 'subject signature algorithm and issuer public key algorithm mismatch'],
  [79, 'INVALID_CA', 'invalid CA certificate'],
  [94, 'EC_KEY_EXPLICIT_PARAMS', 'Certificate public key has explicit ECC parameters'],
];

const BY_NUMBER = new Map(TABLE.map(([n, name]) => [n, name]));
const BY_TEXT = new Map(TABLE.map(([, name, text]) => [text, name]));
const TEXT = new Map(TABLE.map(([, name, text]) => [name, text]));

/** The code name for an X509_V_ERR number (as `openssl verify` prints it). */
export function errorName(num: number): string | undefined {
  return BY_NUMBER.get(num);
}

/** The code name for an X509_verify_cert_error_string() text. */
export function errorNameOfText(text: string): string | undefined {
  return BY_TEXT.get(text);
}

export function errorText(name: string): string | undefined {
  return TEXT.get(name);
}

// The codes Node names in socket.authorizationError (src/crypto/crypto_common.cc, X509ErrorCode).
const NODE_NAMED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'OUT_OF_MEM',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

/** What Node's socket.authorizationError says for this OpenSSL code. */
export function nodeErrorName(name: string): string {
  return NODE_NAMED.has(name) ? name : 'UNSPECIFIED';
}

// Errors `openssl verify` lets verification continue after (apps/verify.c's callback); any other
// error stops it there. Node's TLS callback continues after every error and reports the last one.
export const OPENSSL_VERIFY_CONTINUES = new Set([
  'NO_EXPLICIT_POLICY',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'INVALID_CA',
  'INVALID_NON_CA',
  'PATH_LENGTH_EXCEEDED',
  'CRL_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'UNHANDLED_CRITICAL_EXTENSION',
  'INVALID_PURPOSE',
]);
