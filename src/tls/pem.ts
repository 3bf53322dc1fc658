// PEM text and password files: small helpers kept apart from the modules that need OpenSSL
// contexts or ASN.1 libraries, so `bastion cert inspect` loads little.
import { readFileSync } from 'node:fs';

/** The `-----BEGIN <label>-----` blocks of a text, each with a final newline. */
export function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => m[0] + '\n');
}

/** The DER inside one PEM block. */
export function pemDer(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
}

export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

export class PasswordFileError extends Error {}

/** The password in a password file: its first line. */
export function readPasswordFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PasswordFileError(`password file ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return text.split(/\r?\n/)[0];
}
