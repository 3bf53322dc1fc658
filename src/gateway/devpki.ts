// The development PKI of the default config: on first start, a CA and one gateway certificate
// (server and client use) are generated into the state folder with the project's test-PKI
// library. Later starts reuse them. Never meant for production.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { initCa, issueInto, writeCrl } from '../tls/pki/store.js';

export interface DevPkiResult {
  created: boolean;
  dir: string;
  files: { ca: string; cert: string; key: string; crl: string };
}

export async function ensureDevPki(dir: string, names: string[] = ['localhost']): Promise<DevPkiResult> {
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'gateway.pem'), key: join(dir, 'gateway.key'), crl: join(dir, 'crl.pem') };
  if (existsSync(files.ca) && existsSync(files.cert) && existsSync(files.key)) return { created: false, dir, files };
  mkdirSync(dir, { recursive: true });
  if (!existsSync(files.ca)) await initCa(dir, { subject: 'CN=sip-bastion Development CA, O=sip-bastion dev' });
  const dns = names.filter((n) => !/^[0-9.]+$/.test(n));
  await issueInto(dir, 'gateway', {
    subject: `CN=${dns[0] ?? 'localhost'}, O=sip-bastion dev`,
    san: { dns, uri: dns.map((n) => `sip:${n}`), ip: ['127.0.0.1'] },
    usage: 'both',
  });
  await writeCrl(dir, files.crl);
  return { created: true, dir, files };
}
