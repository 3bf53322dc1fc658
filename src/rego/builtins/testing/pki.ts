// Test support: a real three-certificate chain (root -> intermediate -> leaf) made with Debian's
// openssl, EC P-256 keys, in a temporary directory that is removed afterwards.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Chain {
  rootPem: string;
  intermediatePem: string;
  leafPem: string;
  leafKeyPem: string;
}

export function makeChain(leafName = 'sip.example.test'): Chain {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-pki-'));
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    for (const k of ['root', 'int', 'leaf']) ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${k}.key`);
    writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    writeFileSync(
      join(dir, 'leaf.ext'),
      `basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:${leafName},IP:127.0.0.1,URI:sip:${leafName},email:ops@example.test\nauthorityKeyIdentifier=keyid\n`,
    );
    ossl('req', '-x509', '-new', '-key', 'root.key', '-subj', '/C=DE/O=Bastion Test/CN=Bastion Test Root', '-days', '3650', '-sha256', '-out', 'root.pem', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    ossl('req', '-new', '-key', 'int.key', '-subj', '/O=Bastion Test/CN=Bastion Test Intermediate', '-out', 'int.csr');
    ossl('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '1825', '-sha256', '-extfile', 'ca.ext', '-out', 'int.pem');
    ossl('req', '-new', '-key', 'leaf.key', '-subj', `/O=Bastion Test/OU=edge/CN=${leafName}`, '-out', 'leaf.csr');
    ossl('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-days', '365', '-sha256', '-extfile', 'leaf.ext', '-out', 'leaf.pem');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { rootPem: read('root.pem'), intermediatePem: read('int.pem'), leafPem: read('leaf.pem'), leafKeyPem: read('leaf.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
