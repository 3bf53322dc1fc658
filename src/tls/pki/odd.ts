// Odd certificates for bad-input tests: things no sane generator emits (negative serials, invalid
// UTF-8 in names), made by editing the TBSCertificate of a normal certificate and signing it again.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, AttributeValue } from '@peculiar/asn1-x509';
import { x509, signDer } from './crypto.js';
import { IssuedCertificate, type CertificateAuthority } from './authority.js';

export type TbsEditor = (tbs: Certificate['tbsCertificate']) => void;

/** Returns `cert` with its TBS edited by `edit` and re-signed by `signer` (its issuer, or itself). */
export function resign(cert: IssuedCertificate, signer: IssuedCertificate, edit: TbsEditor): IssuedCertificate {
  const asn = AsnConvert.parse(cert.cert.rawData, Certificate);
  edit(asn.tbsCertificate);
  delete asn.tbsCertificateRaw;
  const tbsDer = new Uint8Array(AsnConvert.serialize(asn.tbsCertificate));
  const hash = (signer.key.signingAlgorithm as { hash?: string }).hash ?? 'SHA-256';
  asn.signatureValue = new Uint8Array(signDer(signer.key.keys.privateKey, hash, tbsDer)).buffer;
  const der = AsnConvert.serialize(asn);
  return new IssuedCertificate(new x509.X509Certificate(der), cert.key, cert.keyPem, cert.issuers);
}

/** Sets a raw DER INTEGER body as serial, e.g. `ff01` (negative: high bit set, no leading zero). */
export function withRawSerial(cert: IssuedCertificate, signer: IssuedCertificate, serialHex: string): IssuedCertificate {
  return resign(cert, signer, (tbs) => {
    tbs.serialNumber = new Uint8Array(Buffer.from(serialHex, 'hex')).buffer;
  });
}

/**
 * Replaces the value of the subject's last CN with a UTF8String holding `bytes` verbatim
 * (e.g. `Buffer.from([0x41, 0xff, 0xfe])`, invalid UTF-8).
 */
export function withRawSubjectCn(cert: IssuedCertificate, signer: IssuedCertificate, bytes: Uint8Array): IssuedCertificate {
  return resign(cert, signer, (tbs) => {
    for (const rdn of [...tbs.subject].reverse()) {
      for (const atv of rdn) {
        if (atv.type === '2.5.4.3') {
          if (bytes.length > 127) throw new Error('raw CN longer than 127 bytes is not supported');
          const tlv = new Uint8Array([0x0c, bytes.length, ...bytes]);
          atv.value = new AttributeValue({ anyValue: tlv.buffer });
          return;
        }
      }
    }
    throw new Error('certificate has no CN to replace');
  });
}

/** An extension with an OID nobody knows, marked critical (RFC 5280 says: reject the certificate). */
export function unknownCriticalExtension(oid = '1.3.6.1.4.1.55555.1.1'): x509.Extension {
  return new x509.Extension(oid, true, new Uint8Array([0x05, 0x00]));
}

export type { CertificateAuthority };
