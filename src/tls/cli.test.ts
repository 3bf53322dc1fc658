// `bastion ca` and `bastion cert inspect` end to end (commands registered on a fresh program).
import { describe, it, expect, afterAll, vi } from 'vitest';
import { Command } from 'commander';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { registerCa } from '../cli/commands/ca.js';
import { registerCert } from '../cli/commands/cert.js';
import { TempDir } from './testkit.js';
import { validateIdentity } from './schema-check.js';
import { certInfo } from './certinfo.js';
import { X509Certificate } from 'node:crypto';

const dir = new TempDir();
afterAll(() => dir.remove());

async function bastion(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command('bastion').exitOverride();
  registerCa(program);
  registerCert(program);
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void (out += s + '\n'));
  const error = vi.spyOn(console, 'error').mockImplementation((s: string) => void (err += s + '\n'));
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'bastion', ...args]);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

describe('bastion ca + cert inspect', () => {
  const root = join(dir.path, 'root');
  const inter = join(dir.path, 'inter');

  it('init, intermediate, issue, inspect, revoke, crl', async () => {
    expect((await bastion('ca', 'init', root, '--subject', 'CN=Lab Root, O=Lab')).code).toBe(0);
    expect((await bastion('ca', 'init', inter, '--parent', root, '--subject', 'CN=Lab Issuing, O=Lab', '--key', 'rsa')).code).toBe(0);
    const issued = await bastion('ca', 'issue', inter, 'phone', '--subject', 'CN=0004F22B3EB5, O=Lab', '--uri', 'sip:alice@lab.example', '--email', 'a@lab.example', '--ip', '192.0.2.7', '--usage', 'client');
    expect(issued.code).toBe(0);
    expect(existsSync(join(inter, 'phone.key'))).toBe(true);
    const cnMap = dir.write('cn.map', '0004F22B3EB5\talice@lab.example,lab.example\n');

    const insp = await bastion('cert', 'inspect', join(inter, 'phone.pem'), '--ca', join(root, 'ca.pem'), '--cn-map', cnMap);
    expect(insp.err).toBe('');
    const doc = JSON.parse(insp.out);
    expect(validateIdentity(doc)).toEqual([]);
    expect(doc).toMatchObject({
      verified: true,
      subject: { cn: '0004F22B3EB5', o: 'Lab', string: 'CN=0004F22B3EB5,O=Lab' },
      san: { sip_uris: ['sip:alice@lab.example'], email: ['a@lab.example'], ip: ['192.0.2.7'] },
      ext_key_usage: ['clientAuth'],
      mapped_identities: ['alice@lab.example', 'lab.example'],
    });
    expect(doc.chain.map((c: { subject: { cn: string } }) => c.subject.cn)).toEqual(['0004F22B3EB5', 'Lab Issuing', 'Lab Root']);

    // An OCSP responder URL goes into the AIA extension.
    expect((await bastion('ca', 'issue', inter, 'sbc', '--subject', 'CN=sbc.lab.example', '--dns', 'sbc.lab.example', '--ocsp', 'http://127.0.0.1:8888/')).code).toBe(0);
    const sbc = new X509Certificate(readFileSync(join(inter, 'sbc.pem')));
    expect(certInfo(new Uint8Array(sbc.raw)).ocsp_urls).toEqual(['http://127.0.0.1:8888/']);
    expect(sbc.infoAccess).toContain('OCSP - URI:http://127.0.0.1:8888/');

    expect((await bastion('ca', 'revoke', inter, join(inter, 'phone.pem'))).code).toBe(0);
    expect((await bastion('ca', 'crl', inter)).code).toBe(0);
    expect(readFileSync(join(inter, 'crl.pem'), 'utf8')).toContain('BEGIN X509 CRL');
    const revoked = JSON.parse((await bastion('cert', 'inspect', join(inter, 'phone.pem'), '--ca', join(root, 'ca.pem'), '--crl', join(inter, 'crl.pem'))).out);
    expect(revoked).toMatchObject({ verified: false, verify_error: 'CERT_REVOKED' });
  });

  it('expired certificates and unknown CAs are reported', async () => {
    await bastion('ca', 'issue', root, 'old', '--subject', 'CN=old.lab.example', '--validity', 'expired');
    const doc = JSON.parse((await bastion('cert', 'inspect', join(root, 'old.pem'), '--ca', join(root, 'ca.pem'))).out);
    expect(doc.verify_error).toBe('CERT_HAS_EXPIRED');
    // No CA: the issuer is missing and the certificate expired; a handshake reports the last error found.
    const alone = JSON.parse((await bastion('cert', 'inspect', join(root, 'old.pem'))).out);
    expect(alone.verify_error).toBe('CERT_HAS_EXPIRED');
  });

  it('broken input gives a clear error and exit code 1', async () => {
    const broken = dir.write('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    // A certificate that cannot be read: a schema-valid document that says so, and the reason on stderr.
    const r = await bastion('cert', 'inspect', broken);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/broken\.pem: certificate #1 cannot be parsed/);
    const unreadable = JSON.parse(r.out);
    expect(validateIdentity(unreadable)).toEqual([]);
    expect(unreadable).toMatchObject({ presented: true, verified: false, verify_error: 'CERT_UNPARSEABLE' });
    const missing = await bastion('cert', 'inspect', join(dir.path, 'nope.pem'));
    expect(missing.err).toMatch(/nope\.pem: cannot read \(ENOENT\)/);
    const notPem = await bastion('cert', 'inspect', dir.write('text.txt', 'hello'));
    expect(notPem.err).toMatch(/no "BEGIN CERTIFICATE" block/);
    const badMap = dir.write('bad.map', 'CN without tab\n');
    const r2 = await bastion('cert', 'inspect', join(root, 'old.pem'), '--cn-map', badMap);
    expect(r2.err).toMatch(/bad\.map:1: .*no TAB/);
    const noCa = await bastion('ca', 'issue', join(dir.path, 'nothing'), 'x', '--subject', 'CN=x');
    expect(noCa.code).toBe(1);
    expect(noCa.err).toMatch(/ca\.pem: cannot read \(ENOENT\)/);
  });
});
