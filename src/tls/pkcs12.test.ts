// PKCS#12 with node-forge: files made by `openssl pkcs12` (OpenSSL 3's defaults and the legacy
// 3DES/SHA-1 ones) are read; files we write are read by `openssl pkcs12`; `bastion ca issue --p12`
// and `bastion cert inspect x.p12` in-process and through the launcher; TLS domains loaded from
// PKCS#12 files serve and present certificates in real handshakes.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { CertificateAuthority, type IssuedCertificate } from './pki/index.js';
import { readPkcs12, writePkcs12, Pkcs12Error } from './pkcs12.js';
import { TlsContextRegistry } from './registry.js';
import { createTlsServer } from './server.js';
import { connectTls } from './client.js';
import type { PeerIdentity } from './identity.js';
import { validateTlsDomains } from './schema-check.js';
import { validateConfig } from '../gateway/config.js';
import { TempDir, listen, close, hasOpenssl } from './testkit.js';
import { bastion } from '../cli/testing/run-cli.js';
import { bastionBin, built } from '../cli/testing/launcher.js';

let dir: TempDir;
let root: CertificateAuthority;
let inter: CertificateAuthority;
let leaf: IssuedCertificate;
let rsaLeaf: IssuedCertificate;
const der = (c: { cert: { rawData: ArrayBuffer } }) => new Uint8Array(c.cert.rawData);
const spkiOf = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('hex');

beforeAll(async () => {
  dir = new TempDir();
  root = await CertificateAuthority.createRoot({ subject: 'CN=P12 Root, O=P12' });
  inter = await root.createIntermediate({ subject: 'CN=P12 Issuing, O=P12' });
  leaf = await inter.issue({ subject: 'CN=phone.p12.example', san: { dns: ['phone.p12.example'] } });
  rsaLeaf = await inter.issue({ subject: 'CN=rsa.p12.example', key: 'rsa', san: { dns: ['rsa.p12.example'] } });
  dir.write('root.pem', root.certPem);
  dir.write('pw', 's3cret pass\n');
  dir.writeCert('leaf', leaf);
  dir.writeCert('rsa', rsaLeaf);
  dir.write('inter.pem', inter.certPem);
});
afterAll(() => dir.remove());

describe.skipIf(!hasOpenssl)('files made by openssl pkcs12', () => {
  it('OpenSSL 3 defaults (PBES2, AES-256, SHA-256 MAC), EC key, chain', () => {
    const out = join(dir.path, 'default.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', join(dir.path, 'leaf.key'), '-in', join(dir.path, 'leaf.pem'), '-certfile', join(dir.path, 'inter.pem'), '-out', out, '-passout', 'pass:s3cret pass']);
    const p12 = readPkcs12(new Uint8Array(readFileSync(out)), 's3cret pass');
    expect(Buffer.from(p12.certs[0]).equals(Buffer.from(der(leaf)))).toBe(true);
    expect(p12.certs.some((c) => Buffer.from(c).equals(Buffer.from(der(inter))))).toBe(true);
    expect(spkiOf(p12.keyPem!)).toBe(spkiOf(leaf.keyPem));
    expect(() => readPkcs12(new Uint8Array(readFileSync(out)), 'wrong')).toThrow(/wrong password/);
  });

  it('legacy 3DES / SHA-1 MAC, RSA key', () => {
    const out = join(dir.path, 'legacy.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', join(dir.path, 'rsa.key'), '-in', join(dir.path, 'rsa.pem'), '-out', out, '-passout', 'pass:x', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']);
    const p12 = readPkcs12(new Uint8Array(readFileSync(out)), 'x');
    expect(spkiOf(p12.keyPem!)).toBe(spkiOf(rsaLeaf.keyPem));
    expect(Buffer.from(p12.certs[0]).equals(Buffer.from(der(rsaLeaf)))).toBe(true);
  });

  it('files we write are read by openssl pkcs12, key and certificates intact', () => {
    const out = dir.write('ours.p12', writePkcs12({ keyPem: leaf.keyPem, certs: [der(leaf), der(inter)], password: 'pw', friendlyName: 'phone' }));
    const info = execFileSync('openssl', ['pkcs12', '-info', '-in', out, '-passin', 'pass:pw', '-nodes'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(info.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(info).toMatch(/subject=CN = phone\.p12\.example/);
    expect(info).toMatch(/friendlyName: phone/);
    const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(info)![0];
    expect(spkiOf(keyPem)).toBe(spkiOf(leaf.keyPem));
    // -info -noout prints the structure on stderr
    expect(spawnSync('openssl', ['pkcs12', '-info', '-noout', '-in', out, '-passin', 'pass:pw'], { encoding: 'utf8' }).stderr).toMatch(/MAC: sha256/);
    expect(() => execFileSync('openssl', ['pkcs12', '-info', '-noout', '-in', out, '-passin', 'pass:nope'], { stdio: 'ignore' })).toThrow();
  });
});

describe('bad PKCS#12 input', () => {
  it('garbage, truncation and a file without a key give Pkcs12Error', () => {
    const good = writePkcs12({ keyPem: leaf.keyPem, certs: [der(leaf)], password: 'pw' });
    expect(() => readPkcs12(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x03]), 'pw')).toThrow(Pkcs12Error);
    expect(() => readPkcs12(good.subarray(0, good.length - 40), 'pw')).toThrow(Pkcs12Error);
    expect(() => readPkcs12(good, 'not it')).toThrow(/wrong password/);
  });
});

describe('bastion ca issue --p12 and cert inspect on a .p12', () => {
  const caDir = () => join(dir.path, 'ca');

  it('in-process: issue writes a PKCS#12 that inspect reads like the PEM', async () => {
    expect((await bastion('ca', 'init', caDir(), '--subject', 'CN=Lab P12 Root')).code).toBe(0);
    const pw = join(dir.path, 'pw');
    const p12 = join(dir.path, 'device.p12');
    const r = await bastion('ca', 'issue', caDir(), 'device', '--subject', 'CN=0004F2AABBCC', '--usage', 'client', '--p12', p12, '--password-file', pw);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).p12).toBe(p12);
    expect(statSync(p12).mode & 0o777).toBe(0o600);
    const fromP12 = await bastion('cert', 'inspect', p12, '--password-file', pw, '--ca', join(caDir(), 'ca.pem'));
    const fromPem = await bastion('cert', 'inspect', join(caDir(), 'device.pem'), '--ca', join(caDir(), 'ca.pem'));
    expect(fromP12.code).toBe(0);
    expect(JSON.parse(fromP12.stdout)).toEqual(JSON.parse(fromPem.stdout));
    expect(JSON.parse(fromP12.stdout)).toMatchObject({ verified: true, subject: { cn: '0004F2AABBCC' } });
    const wrong = await bastion('cert', 'inspect', p12, '--password-file', dir.write('wrongpw', 'nope\n'));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/device\.p12: PKCS#12: wrong password/);
    const missing = await bastion('ca', 'issue', caDir(), 'x', '--subject', 'CN=x', '--p12', join(dir.path, 'x.p12'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--p12 needs --password-file/);
  });

  it.skipIf(!built || !hasOpenssl)('through the launcher, and openssl pkcs12 reads the file', async () => {
    const pw = join(dir.path, 'pw');
    const p12 = join(dir.path, 'device2.p12');
    const r = await bastionBin(['ca', 'issue', caDir(), 'device2', '--subject', 'CN=0004F2DDEEFF', '--usage', 'client', '--p12', p12, '--password-file', pw]);
    expect(r).toMatchObject({ code: 0 });
    const info = spawnSync('openssl', ['pkcs12', '-info', '-noout', '-in', p12, '-passin', `file:${pw}`], { encoding: 'utf8' });
    expect(info.status).toBe(0);
    expect(info.stderr).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/);
    const doc = await bastionBin(['cert', 'inspect', p12, '--password-file', pw, '--ca', join(caDir(), 'ca.pem')]);
    expect(doc.code).toBe(0);
    expect(JSON.parse(doc.stdout)).toMatchObject({ verified: true, subject: { cn: '0004F2DDEEFF' } });
  });
});

describe('TLS domains from PKCS#12', () => {
  it('a server domain and a client domain load pkcs12 + password_file and complete mutual TLS', async () => {
    dir.write('gw.p12', writePkcs12({ keyPem: leaf.keyPem, certs: [der(leaf), der(inter)], password: 's3cret pass' }));
    dir.write('client.p12', writePkcs12({ keyPem: rsaLeaf.keyPem, certs: [der(rsaLeaf), der(inter)], password: 's3cret pass' }));
    const cfg = {
      server_domains: { d: { pkcs12: 'gw.p12', password_file: 'pw', ca: ['root.pem'], require: true } },
      client_domains: { default: { pkcs12: 'client.p12', password_file: 'pw', ca: ['root.pem'] } },
    };
    expect(validateTlsDomains(cfg)).toEqual([]);
    const registry = await TlsContextRegistry.load(cfg, { baseDir: dir.path });
    let serverSide!: PeerIdentity;
    const server = createTlsServer({ registry, domain: 'd', onConnection: (s, id) => ((serverSide = id), s.resume()) });
    const port = await listen(server);
    try {
      const conn = await connectTls({ registry, host: '127.0.0.1', port, expectedDomain: 'phone.p12.example' });
      expect(conn.identity).toMatchObject({ verified: true, subject: { cn: 'phone.p12.example' }, local: { subject: { cn: 'rsa.p12.example' } } });
      for (let i = 0; i < 100 && !serverSide; i++) await new Promise((r) => setTimeout(r, 20));
      expect(serverSide).toMatchObject({ verified: true, subject: { cn: 'rsa.p12.example' }, local: { subject: { cn: 'phone.p12.example' } } });
      conn.socket.destroy();
    } finally {
      await close(server);
    }
  });

  it('a wrong password or a broken file stops loading with the file named', async () => {
    dir.write('gw.p12', writePkcs12({ keyPem: leaf.keyPem, certs: [der(leaf)], password: 's3cret pass' }));
    dir.write('wrongpw', 'nope\n');
    dir.write('bad.p12', Buffer.from('not a pfx'));
    await expect(TlsContextRegistry.load({ server_domains: { d: { pkcs12: 'gw.p12', password_file: 'wrongpw' } } }, { baseDir: dir.path })).rejects.toThrow(/TLS domain "d": .*gw\.p12: PKCS#12: wrong password/);
    await expect(TlsContextRegistry.load({ server_domains: { d: { pkcs12: 'bad.p12' } } }, { baseDir: dir.path })).rejects.toThrow(/bad\.p12: PKCS#12: not a readable PKCS#12 file/);
    await expect(TlsContextRegistry.load({ server_domains: { d: { pkcs12: 'gw.p12', password_file: 'nofile' } } }, { baseDir: dir.path })).rejects.toThrow(/nofile: cannot read \(ENOENT\)/);
  });

  it('the schema names the path of a wrong combination', () => {
    expect(validateTlsDomains({ server_domains: { d: { pkcs12: 'a.p12', cert: 'a.pem', key: 'a.key' } } }).join('\n')).toMatch(/\/server_domains\/d\/cert must NOT be valid/);
    expect(validateTlsDomains({ client_domains: { c: { password_file: 'pw' } } }).join('\n')).toMatch(/\/client_domains\/c must have property pkcs12 when property password_file is present/);
    expect(validateTlsDomains({ server_domains: { d: { ca: ['x.pem'] } } }).length).toBeGreaterThan(0);
    expect(validateTlsDomains({ server_domains: { d: { pkcs12: 'a.p12', partial_chain: true } } })).toEqual([]);
    // the gateway's config takes the same shape, with its own path-named messages
    const base = { listen: [{ transport: 'udp', port: 5060 }], policy: { path: 'p' } };
    expect(validateConfig({ ...base, server_domains: { d: { pkcs12: 'a.p12', password_file: 'pw', partial_chain: true } } })).toEqual([]);
    expect(validateConfig({ ...base, client_domains: { c: { password_file: 'pw' } } })).toContain('/client_domains/c: must have property pkcs12 when property password_file is present');
    expect(validateConfig({ ...base, server_domains: { d: { ca: ['x.pem'] } } })).toEqual(['/server_domains/d: missing property "cert"', '/server_domains/d: missing property "key"']);
    expect(validateConfig({ ...base, server_domains: { d: { pkcs12: 'a.p12', cert: 'a.pem' } } })).toContain('/server_domains/d: unknown property "cert"');
  });
});
