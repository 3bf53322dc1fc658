// Certificate purposes and CA checks as OpenSSL 3.0 makes them (crypto/x509/v3_purp.c): the
// "sslclient" purpose is what a TLS server checks on its client's chain, "sslserver" what a client
// checks on its server's chain.
import { KU, XKU, NS, type CertModel } from './model.js';

export type Purpose = 'sslclient' | 'sslserver';

const kuReject = (x: CertModel, usage: number) => x.kusage !== undefined && (x.kusage & usage) === 0;
const xkuReject = (x: CertModel, usage: number) => x.xkusage !== undefined && (x.xkusage & usage) === 0;
const nsReject = (x: CertModel, usage: number) => x.nscert !== undefined && (x.nscert & usage) === 0;

/**
 * check_ca: 0 not a CA, 1 a CA, 3 a self-signed v1 root, 4 no basicConstraints but keyCertSign,
 * 5 Netscape CA flags.
 */
function checkCa(x: CertModel): number {
  if (kuReject(x, KU.KEY_CERT_SIGN)) return 0;
  if (x.bcons) return x.ca ? 1 : 0;
  if (x.version === 0 && x.selfSigned) return 3;
  if (x.kusage !== undefined) return 4;
  if (x.nscert !== undefined && (x.nscert & NS.ANY_CA) !== 0) return 5;
  return 0;
}

/** X509_check_ca (0 also when the certificate's extensions are invalid). */
export function x509CheckCa(x: CertModel): number {
  return x.invalid ? 0 : checkCa(x);
}

function checkSslCa(x: CertModel): number {
  const ca = checkCa(x);
  if (ca === 0) return 0;
  return ca !== 5 || (x.nscert! & NS.SSL_CA) !== 0 ? 1 : 0;
}

/** X509_check_purpose: 1 fits, 0 does not, -1 error (invalid extensions). */
export function x509CheckPurpose(x: CertModel, purpose: Purpose, nonLeaf: boolean): number {
  if (x.invalid) return -1;
  if (purpose === 'sslclient') {
    if (xkuReject(x, XKU.SSL_CLIENT)) return 0;
    if (nonLeaf) return checkSslCa(x);
    if (kuReject(x, KU.DIGITAL_SIGNATURE | KU.KEY_AGREEMENT)) return 0;
    if (nsReject(x, NS.SSL_CLIENT)) return 0;
    return 1;
  }
  if (xkuReject(x, XKU.SSL_SERVER | XKU.SGC)) return 0;
  if (nonLeaf) return checkSslCa(x);
  if (nsReject(x, NS.SSL_SERVER)) return 0;
  if (kuReject(x, KU.DIGITAL_SIGNATURE | KU.KEY_ENCIPHERMENT | KU.KEY_AGREEMENT)) return 0;
  return 1;
}

/** ossl_x509_signing_allowed: null or the error name. */
export function signingAllowed(issuer: CertModel, subject: CertModel): string | null {
  if (subject.proxy) return kuReject(issuer, KU.DIGITAL_SIGNATURE) ? 'KEYUSAGE_NO_DIGITAL_SIGNATURE' : null;
  return kuReject(issuer, KU.KEY_CERT_SIGN) ? 'KEYUSAGE_NO_CERTSIGN' : null;
}
