// Names and helpers shared by the certificate parsers (certinfo.ts, the fast one, and
// certinfo-asn1.ts, the @peculiar/asn1-x509 one kept as fallback and test oracle).

export const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.46': 'dnQualifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
};

export const EASY_FIELDS: Record<string, string> = {
  CN: 'cn',
  O: 'o',
  OU: 'ou',
  C: 'c',
  L: 'l',
  ST: 'st',
  emailAddress: 'email_address',
};

export const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '1.3.6.1.5.5.7.3.20': 'sipDomain',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

export const KU_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export const OID_SAN = '2.5.29.17';
export const OID_KU = '2.5.29.15';
export const OID_EKU = '2.5.29.37';
export const OID_BC = '2.5.29.19';
export const OID_SKI = '2.5.29.14';
export const OID_AKI = '2.5.29.35';
export const OID_AIA = '1.3.6.1.5.5.7.1.1';

/** Hex of the DER INTEGER body, lower case, without the sign-padding zero byte. */
export function serialHex(bytes: Uint8Array): string {
  const b = bytes.length > 1 && bytes[0] === 0 && bytes[1] > 0x7f ? bytes.subarray(1) : bytes;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

/** RFC 4514 section 2.4 escaping. */
export function escape4514(v: string): string {
  let out = v.replace(/[\\"+,;<>]/g, (c) => '\\' + c).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  if (out.endsWith(' ') && out.length > 1) out = out.slice(0, -1) + '\\ ';
  return out;
}
