// `bastion ca init|issue|revoke|crl`: a small file-based CA for tests and labs (src/tls/pki).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { writePkcs12 } from '../../tls/pkcs12.js';
import { readPasswordFile } from '../../tls/pem.js';
import { initCa, issueInto, revokeIn, writeCrl } from '../../tls/pki/store.js';
import { x509, type KeySpec } from '../../tls/pki/crypto.js';
import type { UsageProfile, Validity, KeyUsageName } from '../../tls/pki/authority.js';
import { SUMMARIES } from './summaries.js';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function keySpec(v: string): KeySpec {
  if (v === 'ec' || v === 'rsa') return v;
  if (/^ec-p(256|384|521)$/.test(v)) return { alg: 'ec', curve: `P-${v.slice(4)}` as 'P-256' };
  if (/^rsa-\d+$/.test(v)) return { alg: 'rsa', bits: Number(v.slice(4)) };
  throw new Error(`unknown key type "${v}" (ec, ec-p384, ec-p521, rsa, rsa-3072, ...)`);
}

function days(n: string | undefined): { notBefore?: Date; notAfter?: Date } {
  if (n === undefined) return {};
  const d = Number(n);
  if (!Number.isFinite(d) || d <= 0) throw new Error(`--days must be a positive number, got "${n}"`);
  return { notBefore: new Date(Date.now() - 3_600_000), notAfter: new Date(Date.now() + d * 86_400_000) };
}

async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    console.error(`bastion ca: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

export function registerCa(program: Command): void {
  const ca = program.command('ca').description(SUMMARIES.ca);

  ca.command('init')
    .description('create a root CA (or an intermediate with --parent) in <dir>')
    .argument('<dir>', 'folder for ca.pem, ca.key, state.json')
    .requiredOption('--subject <dn>', 'subject, most specific first, e.g. "CN=Federation A Root, O=FedA"')
    .option('--parent <dir>', 'sign with the CA in this folder (makes an intermediate)')
    .option('--key <type>', 'ec | ec-p384 | rsa | rsa-3072 ...', 'ec')
    .option('--days <n>', 'validity in days (default 365)')
    .option('--path-length <n>', 'basicConstraints pathLenConstraint')
    .action((dir: string, o) =>
      guarded(async () => {
        const c = await initCa(dir, { subject: o.subject, parent: o.parent, key: keySpec(o.key), pathLength: o.pathLength === undefined ? undefined : Number(o.pathLength), ...days(o.days) });
        console.log(JSON.stringify({ dir, subject: c.cert.subject, serial: c.serial }));
      }),
    );

  ca.command('issue')
    .description('issue a certificate from the CA in <dir>, written to <dir>/<name>.pem (with intermediates) and <name>.key')
    .argument('<dir>')
    .argument('<name>', 'output base name')
    .requiredOption('--subject <dn>', 'e.g. "CN=sbc.atlanta.example, O=FedA"')
    .option('--dns <names>', 'DNS SANs (comma-separated, repeatable)', list)
    .option('--uri <uris>', 'URI SANs, e.g. sip:atlanta.example', list)
    .option('--email <addrs>', 'email SANs', list)
    .option('--ip <addrs>', 'IP SANs', list)
    .option('--usage <profile>', 'server | client | both | none (extended key usage)', 'both')
    .option('--key-usage <names>', 'replace key usage, e.g. digitalSignature,keyEncipherment', list)
    .option('--ext-key-usage <names>', 'replace extended key usage (names or OIDs)', list)
    .option('--validity <v>', 'valid | expired | not-yet-valid', 'valid')
    .option('--days <n>', 'validity in days')
    .option('--key <type>', 'ec | rsa | ...', 'ec')
    .option('--serial <hex>', 'serial number (hex)')
    .option('--ocsp <urls>', 'OCSP responder URLs for the AIA extension (http://...)', list)
    .option('--p12 <file>', 'also write the key and certificate chain as PKCS#12 (for device provisioning)')
    .option('--password-file <file>', 'first line: the PKCS#12 password (required with --p12)')
    .action((dir: string, name: string, o) =>
      guarded(async () => {
        if (o.p12 && !o.passwordFile) throw new Error('--p12 needs --password-file (the PKCS#12 password)');
        const password = o.p12 ? readPasswordFile(o.passwordFile) : undefined;
        if (!['valid', 'expired', 'not-yet-valid'].includes(o.validity)) throw new Error(`--validity must be valid, expired or not-yet-valid`);
        if (!['server', 'client', 'both', 'none'].includes(o.usage)) throw new Error(`--usage must be server, client, both or none`);
        const r = await issueInto(dir, name, {
          subject: o.subject,
          san: { dns: o.dns, uri: o.uri, email: o.email, ip: o.ip },
          usage: o.usage as UsageProfile,
          keyUsage: o.keyUsage as KeyUsageName[] | undefined,
          extKeyUsage: o.extKeyUsage,
          validity: o.validity as Validity,
          key: keySpec(o.key),
          serial: o.serial,
          ...days(o.days),
          ...(o.ocsp?.length ? { extensions: [new x509.AuthorityInfoAccessExtension({ ocsp: (o.ocsp as string[]).map((u) => new x509.GeneralName('url', u)) })] } : {}),
        });
        if (o.p12) {
          const certs = [r.issued.cert, ...r.issued.issuers.slice(0, -1)].map((c) => new Uint8Array(c.rawData));
          writeFileSync(o.p12, writePkcs12({ keyPem: r.issued.keyPem, certs, password: password!, friendlyName: name }), { mode: 0o600 });
        }
        console.log(JSON.stringify({ cert: r.cert, key: r.key, ...(o.p12 ? { p12: o.p12 } : {}), serial: r.issued.serial, subject: r.issued.cert.subject }));
      }),
    );

  ca.command('revoke')
    .description('record a revocation (by certificate file or hex serial); run "ca crl" to publish')
    .argument('<dir>')
    .argument('<cert-or-serial>')
    .option('--reason <code>', 'CRL reason code (0-10)')
    .action((dir: string, what: string, o) =>
      guarded(async () => {
        const serial = await revokeIn(dir, what, o.reason === undefined ? undefined : Number(o.reason));
        console.log(JSON.stringify({ revoked: serial }));
      }),
    );

  ca.command('crl')
    .description('write the CA’s CRL (PEM) to <dir>/crl.pem or --out')
    .argument('<dir>')
    .option('--out <file>')
    .option('--days <n>', 'nextUpdate in days', '7')
    .action((dir: string, o) =>
      guarded(async () => {
        const out = await writeCrl(dir, o.out, Number(o.days));
        console.log(JSON.stringify({ crl: out }));
      }),
    );
}
