// The fast DER walk (certinfo.ts) against the @peculiar/asn1-x509 parser (certinfo-asn1.ts) on real
// certificates of every shape the test PKI makes, plus the walk's own refusals and caching.
import { describe, it, expect, beforeAll } from 'vitest';
import { createHash, X509Certificate } from 'node:crypto';
import { CertificateAuthority, selfSigned, unknownCriticalExtension, withRawSerial, withRawSubjectCn, resign, type IssuedCertificate } from './pki/index.js';
import { parseDer, certInfo, clearCertInfoCache, CertParseError } from './certinfo.js';
import { parseWithAsn1 } from './certinfo-asn1.js';
import { AttributeTypeAndValue, AttributeValue, RelativeDistinguishedName } from '@peculiar/asn1-x509';

const sha = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');
const derOf = (c: IssuedCertificate) => new Uint8Array(c.cert.rawData);

const certs: [string, IssuedCertificate][] = [];

beforeAll(async () => {
  const ecRoot = await CertificateAuthority.createRoot({ subject: 'CN=EC Root, O=Lab, C=US' });
  const rsaRoot = await CertificateAuthority.createRoot({ subject: 'CN=RSA Root, O=Lab', key: 'rsa' });
  const rsa3072 = await CertificateAuthority.createRoot({ subject: 'CN=RSA 3072, O=Lab', key: { alg: 'rsa', bits: 3072 } });
  const p384 = await CertificateAuthority.createRoot({ subject: 'CN=P-384 Root', key: { alg: 'ec', curve: 'P-384' } });
  const inter = await ecRoot.createIntermediate({ subject: 'CN=EC Issuing, OU=Ops, O=Lab' });
  certs.push(['ec root', ecRoot], ['rsa root', rsaRoot], ['rsa 3072', rsa3072], ['intermediate', inter]);
  certs.push(['p-384 root', p384]);
  certs.push(['every SAN kind', await inter.issue({
    subject: 'CN=sbc.atlanta.example, O=Fed A Inc, OU=Voice, C=US',
    san: { dns: ['atlanta.example', '*.atlanta.example'], uri: ['sip:atlanta.example', 'sips:bob@atlanta.example', 'https://atlanta.example/x'], email: ['ops@atlanta.example'], ip: ['127.0.0.1', '::1', '2001:db8::5:0:0:1', 'fe80:0:0:1::'] },
  })]);
  certs.push(['rsa leaf, client usage', await rsaRoot.issue({ subject: 'CN=peer, E=ops@example.org', usage: 'client' })]);
  certs.push(['no EKU, custom KU', await ecRoot.issue({ subject: 'CN=ku', usage: 'none', keyUsage: ['digitalSignature', 'keyAgreement', 'decipherOnly'] })]);
  certs.push(['EKU by OID', await ecRoot.issue({ subject: 'CN=eku', extKeyUsage: ['serverAuth', '1.3.6.1.5.5.7.3.20', '1.2.3.4.5.6.7.8.9.10.11.1234567'] })]);
  certs.push(['expired', await ecRoot.issue({ subject: 'CN=old', validity: 'expired' })]);
  certs.push(['GeneralizedTime (year 2051)', await ecRoot.issue({ subject: 'CN=future', notBefore: new Date('2050-01-01T00:00:00Z'), notAfter: new Date('2051-06-30T12:34:56Z') })]);
  certs.push(['self-signed', await selfSigned({ subject: 'CN=lonely.example, O=Nobody', san: { dns: ['lonely.example'] } })]);
  certs.push(['unknown critical extension', await ecRoot.issue({ subject: 'CN=critical', extensions: [unknownCriticalExtension()] })]);
  const base = await ecRoot.issue({ subject: 'CN=XYZ, O=Odd' });
  certs.push(['negative serial', withRawSerial(base, ecRoot, 'ff01')]);
  certs.push(['leading-zero serial', withRawSerial(base, ecRoot, '0080')]);
  certs.push(['invalid UTF-8 CN', withRawSubjectCn(base, ecRoot, Buffer.from([0x41, 0xff, 0xfe]))]);
  certs.push(['NumericString CN (hex form)', withRawSubjectCn(base, ecRoot, Buffer.from('12345'))]);
  // Other string types in the subject: BMPString, PrintableString, TeletexString, IA5String, NumericString.
  certs.push(['string types', resign(base, ecRoot, (tbs) => {
    const add = (type: string, tlv: number[]) => {
      const atv = new AttributeTypeAndValue({ type, value: new AttributeValue({ anyValue: new Uint8Array(tlv).buffer }) });
      tbs.subject.push(new RelativeDistinguishedName([atv]));
    };
    add('2.5.4.11', [0x1e, 0x04, 0x00, 0x41, 0x04, 0x14]); // BMPString "AД"
    add('2.5.4.7', [0x13, 0x02, 0x4c, 0x41]); // PrintableString
    add('2.5.4.8', [0x14, 0x02, 0x47, 0xe9]); // TeletexString, one latin-1 byte
    add('1.2.840.113549.1.9.1', [0x16, 0x03, 0x61, 0x40, 0x62]); // IA5String
    add('2.5.4.5', [0x12, 0x02, 0x31, 0x32]); // NumericString: not decoded, RFC 4514 hex form
    // A multi-valued RDN with characters RFC 4514 escapes.
    const utf8 = (t: string) => new AttributeValue({ anyValue: new Uint8Array([0x0c, Buffer.byteLength(t), ...Buffer.from(t)]).buffer });
    tbs.subject.push(new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: utf8('#a, b+c ') }), new AttributeTypeAndValue({ type: '2.5.4.10', value: utf8('x;y') })]));
  })]);
  const many = Array.from({ length: 300 }, (_, i) => `h${i}.many.example`);
  certs.push(['huge SAN list', await ecRoot.issue({ subject: 'CN=many', san: { dns: many } })]);
});

describe('fast certificate parser', () => {
  it('agrees with the @peculiar/asn1-x509 parser on every test certificate', () => {
    expect(certs.length).toBeGreaterThan(15);
    for (const [name, c] of certs) {
      const der = derOf(c);
      const fast = parseDer(der, sha(der));
      const reference = parseWithAsn1(der, sha(der));
      if (name === 'invalid UTF-8 CN') {
        // The one deliberate difference: @peculiar falls back to Latin-1 ("Aÿþ"), a string a
        // different, valid certificate could carry; we decode lossily to U+FFFD like Buffer does.
        expect(fast.subject.cn).toBe('A\ufffd\ufffd');
        expect(reference.subject.cn).toBe('A\u00ff\u00fe');
        continue;
      }
      expect({ name, info: fast }).toEqual({ name, info: reference });
    }
  });

  it('gets the fields node:crypto also reports', () => {
    const refused: string[] = [];
    for (const [name, c] of certs) {
      const der = derOf(c);
      let x: X509Certificate;
      try {
        x = new X509Certificate(der);
      } catch {
        refused.push(name); // OpenSSL refuses invalid UTF-8 outright
        continue;
      }
      const info = parseDer(der, sha(der));
      expect({ name, fp: info.fingerprint.sha256 }).toEqual({ name, fp: x.fingerprint256.replace(/:/g, '').toLowerCase() });
      expect({ name, ca: info.is_ca }).toEqual({ name, ca: x.ca });
      expect(new Date(info.not_after).getTime()).toBe(new Date(x.validTo).getTime());
      const k = x.publicKey;
      expect(info.key.type).toBe(k.asymmetricKeyType);
      if (k.asymmetricKeyType === 'rsa') expect(info.key.bits).toBe(k.asymmetricKeyDetails!.modulusLength);
      if (k.asymmetricKeyType === 'ec') expect(info.key.curve).toBe(k.asymmetricKeyDetails!.namedCurve);
    }
    expect(refused).toEqual(['invalid UTF-8 CN']);
  });

  it('reads names in every string type, hex form for the rest', () => {
    const c = certs.find(([n]) => n === 'string types')![1];
    const info = parseDer(derOf(c), 'x');
    expect(info.subject.ou).toBe('AД');
    expect(info.subject.l).toBe('LA');
    expect(info.subject.st).toBe('Gé');
    expect(info.subject.email_address).toBe('a@b');
    expect(info.subject.rdns.at(-3)).toEqual({ type: 'serialNumber', oid: '2.5.4.5', value: '#12023132' });
    expect(info.subject.cn).toBe('#a, b+c ');
    expect(info.subject.string.startsWith('CN=\\#a\\, b\\+c\\ +O=x\\;y,serialNumber=#12023132,emailAddress=a@b,ST=Gé,L=LA,OU=AД,')).toBe(true);
  });

  it('formats IP SANs (IPv6 compressed as RFC 5952 says)', () => {
    const c = certs.find(([n]) => n === 'every SAN kind')![1];
    expect(parseDer(derOf(c), 'x').san.ip).toEqual(['127.0.0.1', '::1', '2001:db8::5:0:0:1', 'fe80:0:0:1::']);
  });

  it('refuses truncated or trailing bytes; certInfo then reports CertParseError', () => {
    const der = derOf(certs[0][1]);
    expect(() => parseDer(der.subarray(0, der.length - 10), 'x')).toThrow();
    expect(() => parseDer(new Uint8Array([...der, 0]), 'x')).toThrow();
    expect(() => certInfo(der.subarray(0, 40))).toThrow(CertParseError);
    expect(() => certInfo(new Uint8Array([0x30, 0x80, 0, 0]))).toThrow(CertParseError);
  });

  it('caches by DER: the same bytes give the same (frozen) object', () => {
    clearCertInfoCache();
    const der = derOf(certs[4][1]);
    const a = certInfo(der);
    expect(certInfo(new Uint8Array(der))).toBe(a);
    expect(Object.isFrozen(a.san.dns)).toBe(true);
    clearCertInfoCache();
    expect(certInfo(der)).not.toBe(a);
  });
});
