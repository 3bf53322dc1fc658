// The certificates of the interop topology: two federations (A and B), the gateway as a member of
// both, an edge proxy in each, and a rogue peer whose CA nobody trusts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateAuthority, type IssuedCertificate } from '../../src/tls/pki/index.js';

export interface PemFiles {
  cert: string; // leaf + intermediates
  key: string;
}

export interface InteropPki {
  dir: string;
  fedA: { ca: string }; // CA certificate file
  fedB: { ca: string };
  rogueCa: string;
  atlanta: PemFiles; // edge of federation A (sip.atlanta.example)
  biloxi: PemFiles; // edge of federation B (sip.biloxi.example)
  gatewayA: PemFiles; // the gateway's certificate from federation A
  gatewayB: PemFiles; // the gateway's certificate from federation B
  rogue: PemFiles; // a peer from an unknown CA
  /** Both federation CAs in one file (what the gateway trusts inbound). */
  bothCas: string;
}

function write(dir: string, name: string, issued: IssuedCertificate): PemFiles {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, issued.chainPem);
  writeFileSync(key, issued.keyPem, { mode: 0o600 });
  return { cert, key };
}

export async function makeInteropPki(dir: string): Promise<InteropPki> {
  mkdirSync(dir, { recursive: true });
  const fedA = await CertificateAuthority.createRoot({ subject: 'CN=Federation A Root, O=FedA' });
  const fedB = await CertificateAuthority.createRoot({ subject: 'CN=Federation B Root, O=FedB' });
  const rogueCa = await CertificateAuthority.createRoot({ subject: 'CN=Rogue Root, O=Nobody' });
  const leaf = (ca: CertificateAuthority, cn: string, domain: string) =>
    ca.issue({ subject: `CN=${cn}, O=${ca === fedA ? 'FedA' : ca === fedB ? 'FedB' : 'Nobody'}`, san: { dns: [cn, domain], uri: [`sip:${domain}`], ip: ['127.0.0.1'] }, usage: 'both' }); // peers on 127.0.0.1: IP next hops are checked against the IP SAN

  const files = {
    fedACa: join(dir, 'fedA-ca.pem'),
    fedBCa: join(dir, 'fedB-ca.pem'),
    rogueCa: join(dir, 'rogue-ca.pem'),
    bothCas: join(dir, 'fedAB-ca.pem'),
  };
  writeFileSync(files.fedACa, fedA.certPem);
  writeFileSync(files.fedBCa, fedB.certPem);
  writeFileSync(files.rogueCa, rogueCa.certPem);
  writeFileSync(files.bothCas, fedA.certPem + fedB.certPem);

  return {
    dir,
    fedA: { ca: files.fedACa },
    fedB: { ca: files.fedBCa },
    rogueCa: files.rogueCa,
    bothCas: files.bothCas,
    atlanta: write(dir, 'atlanta', await leaf(fedA, 'sip.atlanta.example', 'atlanta.example')),
    biloxi: write(dir, 'biloxi', await leaf(fedB, 'sip.biloxi.example', 'biloxi.example')),
    gatewayA: write(dir, 'gateway-fedA', await leaf(fedA, 'gw.bastion.example', 'bastion.example')),
    gatewayB: write(dir, 'gateway-fedB', await leaf(fedB, 'gw.bastion.example', 'bastion.example')),
    rogue: write(dir, 'rogue', await leaf(rogueCa, 'sip.rogue.example', 'rogue.example')),
  };
}
