// A CA kept in a folder (for `bastion ca`): ca.pem, ca.key (PKCS#8), chain.pem (its issuers, for
// intermediates), state.json (revocations), crl.pem, and issued certificates as <name>.pem/.key.
import { readFileSync, writeFileSync, existsSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { CertificateAuthority, type CaOptions, type IssueOptions, type IssuedCertificate } from './authority.js';
import { pemBlocks } from '../pem.js';
import type { x509 } from './crypto.js';

interface State {
  revoked: { serial: string; date: string; reason?: number }[];
}

export class CaStoreError extends Error {}

export async function initCa(dir: string, opts: CaOptions & { parent?: string }): Promise<CertificateAuthority> {
  if (existsSync(join(dir, 'ca.pem'))) throw new CaStoreError(`${dir}: a CA already exists here (ca.pem)`);
  mkdirSync(dir, { recursive: true });
  const ca = opts.parent ? await (await openCa(opts.parent)).createIntermediate(opts) : await CertificateAuthority.createRoot(opts);
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'chain.pem'), ca.fullChainPem.slice(ca.certPem.length));
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ revoked: [] }, null, 2) + '\n');
  return ca;
}

export async function openCa(dir: string): Promise<CertificateAuthority> {
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch (e) {
      throw new CaStoreError(`${join(dir, f)}: cannot read (${(e as NodeJS.ErrnoException).code}); run "bastion ca init" first?`);
    }
  };
  const chain = existsSync(join(dir, 'chain.pem')) ? pemBlocks(read('chain.pem'), 'CERTIFICATE') : [];
  let ca: CertificateAuthority;
  try {
    ca = await CertificateAuthority.fromPem(read('ca.pem'), read('ca.key'), chain);
  } catch (e) {
    throw new CaStoreError(`${dir}: broken CA files: ${(e as Error).message}`);
  }
  const state = readState(dir);
  for (const r of state.revoked) ca.revoke(r.serial, r.reason as x509.X509CrlReason | undefined, new Date(r.date));
  return ca;
}

export async function issueInto(dir: string, name: string, opts: IssueOptions): Promise<{ cert: string; key: string; issued: IssuedCertificate }> {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === 'ca' || name === 'chain' || name === 'crl') throw new CaStoreError(`bad output name "${name}"`);
  const ca = await openCa(dir);
  const issued = await ca.issue(opts);
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, issued.chainPem);
  writeFileSync(key, issued.keyPem, { mode: 0o600 });
  chmodSync(key, 0o600);
  return { cert, key, issued };
}

/** Revokes by hex serial or by a certificate file. Returns the serial. */
export async function revokeIn(dir: string, certOrSerial: string, reason?: number): Promise<string> {
  let serial = certOrSerial;
  if (existsSync(certOrSerial)) {
    try {
      serial = new NodeX509(readFileSync(certOrSerial)).serialNumber;
    } catch (e) {
      throw new CaStoreError(`${certOrSerial}: not a certificate: ${(e as Error).message}`);
    }
  }
  serial = serial.toLowerCase().replace(/:/g, '').replace(/^(00)+(?=[89a-f])/, '');
  if (!/^[0-9a-f]+$/.test(serial)) throw new CaStoreError(`"${certOrSerial}" is neither a certificate file nor a hex serial`);
  const state = readState(dir);
  if (!state.revoked.some((r) => r.serial === serial)) state.revoked.push({ serial, date: new Date().toISOString(), reason });
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  return serial;
}

export async function writeCrl(dir: string, out = join(dir, 'crl.pem'), days = 7): Promise<string> {
  const ca = await openCa(dir);
  const now = new Date(Date.now() - 60_000);
  const { pem } = await ca.crl({ thisUpdate: now, nextUpdate: new Date(now.getTime() + days * 86_400_000) });
  writeFileSync(out, pem);
  return out;
}

function readState(dir: string): State {
  const p = join(dir, 'state.json');
  if (!existsSync(p)) return { revoked: [] };
  try {
    const s = JSON.parse(readFileSync(p, 'utf8')) as State;
    if (!Array.isArray(s.revoked)) throw new Error('"revoked" is not a list');
    return s;
  } catch (e) {
    throw new CaStoreError(`${p}: ${(e as Error).message}`);
  }
}
