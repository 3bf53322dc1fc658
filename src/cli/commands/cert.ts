// `bastion cert inspect <file> [--ca <pem>] [--crl <file>...] [--cn-map <file>] [--expected-domain d]
// [--purpose client|server|any] [--at <RFC 3339>] [--allow-wildcard] [--partial-chain]
// [--password-file <file>] [--ocsp-response <der>]`: the identity document a connection presenting this certificate would
// produce, as JSON, validated against schemas/identity.schema.json. The file is PEM (leaf first,
// intermediates may follow) or PKCS#12.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { inspectCertificate, certificatesOf } from '../../tls/inspect.js';
import { loadCnMap } from '../../tls/cnmap.js';
import { validateIdentity } from '../../tls/schema-check.js';
import { readPasswordFile } from '../../tls/pem.js';
import { certInfo } from '../../tls/certinfo.js';
import { parseCertificate } from '../../tls/verify/model.js';
import { SUMMARIES } from './summaries.js';

function readFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

const RFC3339 = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

/** An RFC 3339 date-time (`2026-05-01T12:00:00Z`) as a Date. */
export function parseRfc3339(s: string): Date {
  const d = new Date(s.replace(' ', 'T'));
  if (!RFC3339.test(s) || Number.isNaN(d.getTime())) throw new Error(`--at must be an RFC 3339 time such as 2026-05-01T12:00:00Z (got "${s}")`);
  return d;
}

/** Why a certificate of the file cannot be read (for the message next to a CERT_UNPARSEABLE document). */
function unparseableReason(ders: Uint8Array[]): string | undefined {
  for (let i = 0; i < ders.length; i++) {
    try {
      parseCertificate(ders[i]);
      certInfo(ders[i]);
    } catch (e) {
      return `certificate #${i + 1} cannot be parsed: ${(e as Error).message}`;
    }
  }
  return undefined;
}

export function registerCert(program: Command): void {
  const cert = program.command('cert').description(SUMMARIES.cert);
  cert
    .command('inspect')
    .description('print the peer-identity document this certificate would produce (JSON)')
    .argument('<file>', 'certificate file: PEM (leaf first, intermediates may follow) or PKCS#12 (.p12/.pfx)')
    .option('--ca <pem>', 'trusted CA certificates (verification)')
    .option('--crl <file...>', 'CRL files')
    .option('--cn-map <file>', 'CN mapping file (CN<TAB>identities)')
    .option('--expected-domain <name>', 'the name the peer must prove: a SIP domain (RFC 5922) or an IP address (IP SANs)')
    .option('--verify-depth <n>', 'maximum intermediates', '9')
    .option('--purpose <role>', 'check key usage / EKU as a live handshake does: client (presented to our server), server (presented to our client) or any', 'client')
    .option('--at <time>', 'verify at this RFC 3339 time instead of now')
    .option('--allow-wildcard', 'accept a wildcard DNS SAN for --expected-domain (as a client domain with allow_wildcard)')
    .option('--partial-chain', 'CA certificates that are not self-signed are trust anchors too (as a domain with partial_chain)')
    .option('--password-file <file>', 'first line: the password of a PKCS#12 file')
    .option('--ocsp-response <file>', 'a DER OCSP response about the certificate, checked as a stapled one')
    .action(async (file: string, o) => {
      try {
        if (!['client', 'server', 'any'].includes(o.purpose)) throw new Error(`--purpose must be client, server or any (got "${o.purpose}")`);
        if (!/^\d+$/.test(o.verifyDepth)) throw new Error(`--verify-depth must be a number >= 0 (got "${o.verifyDepth}")`);
        const now = o.at === undefined ? undefined : parseRfc3339(o.at);
        const ders = await certificatesOf(readFile(file, 'certificate'), o.passwordFile ? readPasswordFile(o.passwordFile) : undefined);
        const doc = await inspectCertificate(ders, {
          caPem: o.ca ? readFile(o.ca, 'CA file').toString('utf8') : undefined,
          crlFiles: o.crl,
          cnMap: o.cnMap ? loadCnMap(o.cnMap) : undefined,
          expectedDomain: o.expectedDomain,
          verifyDepth: Number(o.verifyDepth),
          purpose: o.purpose,
          now,
          allowWildcard: o.allowWildcard === true,
          partialChain: o.partialChain === true,
          ocspResponse: o.ocspResponse ? new Uint8Array(readFile(o.ocspResponse, 'OCSP response')) : undefined,
        });
        const errors = validateIdentity(doc);
        if (errors.length) throw new Error(`internal: document does not match the schema: ${errors.join('; ')}`);
        if (doc.verify_error === 'CERT_UNPARSEABLE') console.error(`bastion cert inspect: ${file}: ${unparseableReason(ders) ?? 'cannot be parsed'}`);
        console.log(JSON.stringify(doc, null, 2));
      } catch (e) {
        console.error(`bastion cert inspect: ${file}: ${(e as Error).message}`);
        process.exitCode = 1;
      }
    });
}
