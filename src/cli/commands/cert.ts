// `bastion cert inspect <pem> [--ca <pem>] [--cn-map <file>] [--purpose client|server|any]`: the identity document a connection
// presenting this certificate would produce, as JSON, validated against schemas/identity.schema.json.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { inspectCertificate } from '../../tls/inspect.js';
import { loadCnMap } from '../../tls/cnmap.js';
import { validateIdentity } from '../../tls/schema-check.js';

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function registerCert(program: Command): void {
  const cert = program.command('cert').description('certificate tools');
  cert
    .command('inspect')
    .description('print the peer-identity document this certificate would produce (JSON)')
    .argument('<pem>', 'certificate file (leaf first, intermediates may follow)')
    .option('--ca <pem>', 'trusted CA certificates (verification)')
    .option('--crl <file...>', 'CRL files')
    .option('--cn-map <file>', 'CN mapping file (CN<TAB>identities)')
    .option('--expected-domain <domain>', 'also check RFC 5922 domain validation against this SIP domain')
    .option('--verify-depth <n>', 'maximum intermediates', '9')
    .option('--purpose <role>', 'check key usage / EKU as a live handshake does: client (presented to our server), server (presented to our client) or any', 'client')
    .action(async (file: string, o) => {
      try {
        if (!['client', 'server', 'any'].includes(o.purpose)) throw new Error(`--purpose must be client, server or any (got "${o.purpose}")`);
        const doc = await inspectCertificate(readText(file, 'certificate'), {
          caPem: o.ca ? readText(o.ca, 'CA file') : undefined,
          crlFiles: o.crl,
          cnMap: o.cnMap ? loadCnMap(o.cnMap) : undefined,
          expectedDomain: o.expectedDomain,
          verifyDepth: Number(o.verifyDepth),
          purpose: o.purpose,
        });
        const errors = validateIdentity(doc);
        if (errors.length) throw new Error(`internal: document does not match the schema: ${errors.join('; ')}`);
        console.log(JSON.stringify(doc, null, 2));
      } catch (e) {
        console.error(`bastion cert inspect: ${file}: ${(e as Error).message}`);
        process.exitCode = 1;
      }
    });
}
