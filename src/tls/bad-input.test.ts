// Bad input for the verifier: certificates that are truncated, oversized (a 1 MB extension),
// deeply nested or carry duplicate extensions, and CRLs and OCSP responses with bad signatures or
// the wrong issuer. Each gives a clear error or an unverified document, never a crash and never
// `verified: true`: in-process, through `bastion cert inspect` through the launcher, and for some
// on a live connection.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { rawKey, rawCertificate, rawCrl, keyId, ext, der, EKU, type RawCert, type RawKey, type RawExtension } from './pki/index.js';
import { inspectCertificate } from './inspect.js';
import { ocspRequest } from './ocsp.js';
import { validateIdentity } from './schema-check.js';
import { TlsContextRegistry } from './registry.js';
import { createTlsServer } from './server.js';
import type { PeerIdentity } from './identity.js';
import { TempDir, listen, close, hasOpenssl } from './testkit.js';
import { bastion } from '../cli/testing/run-cli.js';
import { bastionBin, built } from '../cli/testing/launcher.js';

const HOUR = 3_600_000;
const now = Date.now();
const valid = { notBefore: new Date(now - HOUR), notAfter: new Date(now + 30 * 24 * HOUR) };
let dir: TempDir;
let rootKey: RawKey, interKey: RawKey, otherKey: RawKey, leafKey: RawKey;
let root: RawCert, inter: RawCert, other: RawCert, leaf: RawCert;
const files: Record<string, string> = {};

function ca(subject: string, key: RawKey, issuer?: { subject: string; key: RawKey }, serial = 1): RawCert {
  return rawCertificate({ subject, issuer: issuer?.subject, key, signer: issuer?.key, serial, ...valid, extensions: [ext.basicConstraints({ ca: true }), ext.keyUsage(['keyCertSign', 'cRLSign']), ext.subjectKeyId(keyId(key)), ...(issuer ? [ext.authorityKeyId({ keyid: keyId(issuer.key) })] : [])] });
}

function leafWith(extra: RawExtension[], o: { san?: boolean; serial?: number } = {}): RawCert {
  return rawCertificate({
    subject: 'CN=peer.bad.example',
    issuer: 'CN=Bad Issuing',
    key: leafKey,
    signer: interKey,
    serial: o.serial ?? 77,
    ...valid,
    extensions: [ext.basicConstraints({}), ext.keyUsage(['digitalSignature']), ext.extKeyUsage([EKU.serverAuth, EKU.clientAuth]), ...(o.san === false ? [] : [ext.subjectAltName([{ dns: 'peer.bad.example' }])]), ext.subjectKeyId(keyId(leafKey)), ext.authorityKeyId({ keyid: keyId(interKey) }), ...extra],
  });
}

/** `depth` nested SEQUENCEs, built inside out without copying the whole each time. */
function nestedSequences(depth: number): Uint8Array {
  const sizes: number[] = [0];
  const head = (len: number) => (len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5);
  for (let i = 1; i < depth; i++) sizes.push(head(sizes[i - 1]) + sizes[i - 1]);
  const total = head(sizes[depth - 1]) + sizes[depth - 1];
  const out = new Uint8Array(total);
  let p = 0;
  for (let i = depth - 1; i >= 0; i--) {
    const len = sizes[i];
    out[p++] = 0x30;
    if (len < 0x80) out[p++] = len;
    else if (len < 0x100) out.set([0x81, len], (p += 2) - 2);
    else if (len < 0x10000) out.set([0x82, len >> 8, len & 0xff], (p += 3) - 3);
    else out.set([0x83, len >> 16, (len >> 8) & 0xff, len & 0xff], (p += 4) - 4);
  }
  return out;
}

const pem = (d: Uint8Array, label = 'CERTIFICATE') => `-----BEGIN ${label}-----\n${Buffer.from(d).toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;

beforeAll(() => {
  dir = new TempDir();
  rootKey = rawKey();
  interKey = rawKey();
  otherKey = rawKey();
  leafKey = rawKey();
  root = ca('CN=Bad Root', rootKey);
  inter = ca('CN=Bad Issuing', interKey, { subject: 'CN=Bad Root', key: rootKey }, 2);
  other = ca('CN=Bad Root', otherKey, undefined, 3); // the same name, another key
  leaf = leafWith([]);
  files.ca = dir.write('ca.pem', root.pem);
  files.good = dir.write('good.pem', leaf.pem + inter.pem);
  files.truncated = dir.write('truncated.pem', pem(leaf.der.subarray(0, leaf.der.length - 20)) + inter.pem);
  files.truncatedInter = dir.write('truncated-inter.pem', leaf.pem + pem(inter.der.subarray(0, 100)));
  files.truncatedCa = dir.write('truncated-ca.pem', pem(root.der.subarray(0, root.der.length - 1)));
  files.oversized = dir.write('oversized.pem', leafWith([ext.unknown('1.3.6.1.4.1.55555.9.1', false, der.octets(new Uint8Array(1 << 20)))]).pem + inter.pem);
  files.deepSan = dir.write('deep-san.pem', leafWith([{ oid: '2.5.29.17', value: nestedSequences(20_000) }], { san: false }).pem + inter.pem);
  files.deepCritical = dir.write('deep-critical.pem', leafWith([ext.unknown('1.3.6.1.4.1.55555.9.2', true, nestedSequences(20_000))]).pem + inter.pem);
  files.dupSan = dir.write('dup-san.pem', leafWith([ext.subjectAltName([{ dns: 'other.bad.example' }])]).pem + inter.pem);
  const aia: RawExtension = { oid: '1.3.6.1.5.5.7.1.1', value: der.seq(der.seq(der.oid('1.3.6.1.5.5.7.48.1'), der.ctx(6, false, Buffer.from('http://127.0.0.1:1/')))) };
  files.dupAia = dir.write('dup-aia.pem', leafWith([aia, aia]).pem + inter.pem);
  // CRLs
  const crl = (signer: RawKey, issuer: string, revoked: number[] = []) => rawCrl({ issuer, signer, thisUpdate: new Date(now - HOUR), nextUpdate: new Date(now + 24 * HOUR), revoked: revoked.map((serial) => ({ serial })) });
  const badSig = crl(rootKey, 'CN=Bad Root').der;
  badSig[badSig.length - 4] ^= 0x01;
  files.crlBadSignature = dir.write('crl-bad-signature.pem', pem(badSig, 'X509 CRL'));
  files.crlWrongIssuer = dir.write('crl-wrong-issuer.pem', crl(otherKey, 'CN=Bad Root', [2]).pem);
  files.crlTruncated = dir.write('crl-truncated.pem', pem(crl(rootKey, 'CN=Bad Root').der.subarray(0, 40), 'X509 CRL'));
  // A CRL in the name of the intermediate (not in the CA list), signed by a stranger
  files.crlInterForged = dir.write('crl-inter-forged.pem', crl(otherKey, 'CN=Bad Issuing').pem);
  files.crlInterForgedRevoking = dir.write('crl-inter-forged-revoking.pem', crl(otherKey, 'CN=Bad Issuing', [77]).pem);
  files.crlInterGood = dir.write('crl-inter-good.pem', crl(interKey, 'CN=Bad Issuing', [77]).pem);
  files.interKey = dir.write('inter.key', interKey.pem);
  files.interPem = dir.write('inter.pem', inter.pem);
  files.otherKey = dir.write('other.key', otherKey.pem);
  files.otherPem = dir.write('other.pem', other.pem);
});
afterAll(() => dir.remove());

const ok = (doc: PeerIdentity) => expect(validateIdentity(doc)).toEqual([]);

describe('bad certificates, in-process', () => {
  it('truncated peer or intermediate: CERT_UNPARSEABLE, a schema-valid document', async () => {
    for (const f of [files.truncated, files.truncatedInter]) {
      const doc = await inspectCertificate(readFileSync(f), { caPem: root.pem });
      ok(doc);
      expect(doc).toMatchObject({ presented: true, verified: false, verify_error: 'CERT_UNPARSEABLE' });
    }
  });

  it('oversized (a 1 MB extension): CERT_UNPARSEABLE', async () => {
    const doc = await inspectCertificate(readFileSync(files.oversized), { caPem: root.pem });
    ok(doc);
    expect(doc.verify_error).toBe('CERT_UNPARSEABLE');
  });

  it('deeply nested: in the SAN, CERT_UNPARSEABLE; in an unknown critical extension, refused', async () => {
    const deepSan = await inspectCertificate(readFileSync(files.deepSan), { caPem: root.pem });
    ok(deepSan);
    expect(deepSan.verify_error).toBe('CERT_UNPARSEABLE');
    const deepCrit = await inspectCertificate(readFileSync(files.deepCritical), { caPem: root.pem });
    ok(deepCrit);
    expect(deepCrit).toMatchObject({ verified: false, verify_error: 'UNHANDLED_CRITICAL_EXTENSION' });
  });

  it('duplicate extensions (one OpenSSL uses, one it ignores): never verified', async () => {
    const good = await inspectCertificate(readFileSync(files.good), { caPem: root.pem });
    expect(good.verified).toBe(true);
    for (const f of [files.dupSan, files.dupAia]) {
      const doc = await inspectCertificate(readFileSync(f), { caPem: root.pem });
      ok(doc);
      expect(doc.verified).toBe(false);
    }
  });
});

describe('bad CRLs, in-process', () => {
  it('a bad signature or the wrong issuer under a listed CA\'s name stops loading with a clear error', async () => {
    const cert = readFileSync(files.good);
    await expect(inspectCertificate(cert, { caPem: root.pem, crlFiles: [files.crlBadSignature] })).rejects.toThrow(/crl-bad-signature\.pem: signature does not verify with the CA/);
    await expect(inspectCertificate(cert, { caPem: root.pem, crlFiles: [files.crlWrongIssuer] })).rejects.toThrow(/crl-wrong-issuer\.pem: signature does not verify with the CA/);
    await expect(inspectCertificate(cert, { caPem: root.pem, crlFiles: [files.crlTruncated] })).rejects.toThrow(/crl-truncated\.pem: not a valid CRL/);
  });

  it('a forged CRL of a CA the peer sends: CRL_SIGNATURE_FAILURE, never trusted', async () => {
    const cert = readFileSync(files.good);
    expect(await inspectCertificate(cert, { caPem: root.pem, crlFiles: [files.crlInterForged] })).toMatchObject({ verified: false, verify_error: 'CRL_SIGNATURE_FAILURE' });
    // one that also lists the peer: OpenSSL reports the signature failure, then the revocation (the last error)
    expect(await inspectCertificate(cert, { caPem: root.pem, crlFiles: [files.crlInterForgedRevoking] })).toMatchObject({ verified: false, verify_error: 'CERT_REVOKED' });
    expect(await inspectCertificate(cert, { caPem: root.pem, crlFiles: [files.crlInterGood] })).toMatchObject({ verified: false, verify_error: 'CERT_REVOKED' });
  });
});

describe('bad certificates and CRLs: the same through bastion cert inspect', () => {
  const cases: [string, string[], { code: number; verify_error?: string; stderr?: RegExp }][] = [];
  beforeAll(() => {
    cases.push(
      ['truncated', [files.truncated, '--ca', files.ca], { code: 0, verify_error: 'CERT_UNPARSEABLE', stderr: /certificate #1 cannot be parsed/ }],
      ['truncated intermediate', [files.truncatedInter, '--ca', files.ca], { code: 0, verify_error: 'CERT_UNPARSEABLE', stderr: /certificate #2 cannot be parsed/ }],
      ['truncated CA', [files.good, '--ca', files.truncatedCa], { code: 1, stderr: /CA file: a certificate cannot be parsed/ }],
      ['oversized', [files.oversized, '--ca', files.ca], { code: 0, verify_error: 'CERT_UNPARSEABLE', stderr: /certificate #1 cannot be parsed: certificate of \d+ bytes \(more than 102400\)/ }],
      ['deep SAN', [files.deepSan, '--ca', files.ca], { code: 0, verify_error: 'CERT_UNPARSEABLE' }],
      ['deep critical', [files.deepCritical, '--ca', files.ca], { code: 0, verify_error: 'UNHANDLED_CRITICAL_EXTENSION' }],
      ['duplicate SAN', [files.dupSan, '--ca', files.ca], { code: 0 }],
      ['duplicate AIA', [files.dupAia, '--ca', files.ca], { code: 0 }],
      ['CRL bad signature', [files.good, '--ca', files.ca, '--crl', files.crlBadSignature], { code: 1, stderr: /signature does not verify with the CA/ }],
      ['CRL wrong issuer', [files.good, '--ca', files.ca, '--crl', files.crlWrongIssuer], { code: 1, stderr: /signature does not verify with the CA/ }],
      ['CRL forged for the intermediate', [files.good, '--ca', files.ca, '--crl', files.crlInterForged], { code: 0, verify_error: 'CRL_SIGNATURE_FAILURE' }],
    );
  });

  const check = (name: string, r: { stdout: string; stderr: string; code: number }, want: { code: number; verify_error?: string; stderr?: RegExp }) => {
    expect({ name, code: r.code }).toEqual({ name, code: want.code });
    if (want.stderr) expect(r.stderr).toMatch(want.stderr);
    if (want.code === 0) {
      const doc = JSON.parse(r.stdout);
      expect(validateIdentity(doc)).toEqual([]);
      expect({ name, verified: doc.verified }).toEqual({ name, verified: false });
      if (want.verify_error) expect({ name, e: doc.verify_error }).toEqual({ name, e: want.verify_error });
    }
  };

  it('in-process', async () => {
    for (const [name, args, want] of cases) check(name, await bastion('cert', 'inspect', ...args), want);
  });

  it.skipIf(!built)('through the launcher (bin/bastion.js): one of each kind', async () => {
    const kinds = ['truncated', 'oversized', 'deep SAN', 'duplicate SAN', 'CRL bad signature', 'CRL wrong issuer'];
    const picked = cases.filter(([name]) => kinds.includes(name));
    expect(picked).toHaveLength(kinds.length);
    for (let i = 0; i < picked.length; i += 2) {
      const runs = picked.slice(i, i + 2).map(async ([name, args, want]) => [name, await bastionBin(['cert', 'inspect', ...args]), want] as const);
      for (const [name, r, want] of await Promise.all(runs)) check(name, r, want);
    }
  }, 180_000);
});

describe.skipIf(!hasOpenssl)('bad OCSP responses (cert inspect --ocsp-response)', () => {
  const responses: Record<string, string> = {};
  beforeAll(() => {
    const req = dir.write('req.der', ocspRequest(leaf.der, inter.der));
    const serial = '4D'; // 77
    const t = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    dir.write('index-good.txt', ['V', t(valid.notAfter), '', serial, 'unknown', '/CN=peer'].join('\t') + '\n');
    dir.write('index-revoked.txt', ['R', t(valid.notAfter), t(new Date(now - HOUR)), serial, 'unknown', '/CN=peer'].join('\t') + '\n');
    const respond = (name: string, index: string, signer: string, key: string) => {
      const out = join(dir.path, `${name}.der`);
      // -resp_no_certs: the signature is the response's last field (so the byte flipped below is in it)
      const r = spawnSync('openssl', ['ocsp', '-index', join(dir.path, index), '-CA', files.interPem, '-rsigner', signer, '-rkey', key, '-reqin', req, '-respout', out, '-ndays', '1', '-resp_no_certs'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      responses[name] = out;
    };
    respond('good', 'index-good.txt', files.interPem, files.interKey);
    respond('revoked', 'index-revoked.txt', files.interPem, files.interKey);
    respond('stranger', 'index-good.txt', files.otherPem, files.otherKey);
    const tampered = readFileSync(responses.good);
    tampered[tampered.length - 5] ^= 0x01;
    responses.tampered = dir.write('tampered.der', tampered);
    responses.truncated = dir.write('truncated.der', readFileSync(responses.good).subarray(0, 50));
  });

  it('good and revoked answers count; a bad signature, a wrong issuer or a truncated answer is OCSP_VERIFY_FAILED', async () => {
    const want: Record<string, string | null> = { good: null, revoked: 'CERT_REVOKED', tampered: 'OCSP_VERIFY_FAILED', stranger: 'OCSP_VERIFY_FAILED', truncated: 'OCSP_VERIFY_FAILED' };
    for (const [name, e] of Object.entries(want)) {
      const r = await bastion('cert', 'inspect', files.good, '--ca', files.ca, '--ocsp-response', responses[name]);
      const doc = JSON.parse(r.stdout);
      ok(doc);
      expect({ name, verify_error: doc.verify_error ?? null, verified: doc.verified }).toEqual({ name, verify_error: e, verified: e === null });
    }
  });

  it.skipIf(!built)('through the launcher', async () => {
    const runs = ['tampered', 'stranger'].map((name) => bastionBin(['cert', 'inspect', files.good, '--ca', files.ca, '--ocsp-response', responses[name]]));
    for (const r of await Promise.all(runs)) expect(JSON.parse(r.stdout)).toMatchObject({ verified: false, verify_error: 'OCSP_VERIFY_FAILED' });
  }, 120_000);
});

describe('bad certificates on a live connection', () => {
  it('an oversized chain is refused in the handshake; duplicate extensions are never verified', async () => {
    dir.write('gw.pem', leaf.pem);
    dir.write('gw.key', leafKey.pem);
    const registry = await TlsContextRegistry.load({ server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['ca.pem'], require: false } } }, { baseDir: dir.path });
    let outcome: ((o: PeerIdentity | 'handshake failed') => void) | undefined;
    const server = createTlsServer({ registry, domain: 'd', onConnection: (s, id) => (outcome?.(id), s.destroy()), onHandshakeError: () => outcome?.('handshake failed') });
    const port = await listen(server);
    const present = (file: string) =>
      new Promise<PeerIdentity | 'handshake failed'>((resolve) => {
        outcome = resolve;
        const s = tls.connect({ host: '127.0.0.1', port, cert: readFileSync(file, 'utf8'), key: leafKey.pem, rejectUnauthorized: false });
        s.on('secureConnect', () => s.resume());
        s.on('error', () => {});
      });
    try {
      // the 1 MB certificate is over OpenSSL's limit for a certificate list
      expect(await present(files.oversized)).toBe('handshake failed');
      // a duplicated SAN: OpenSSL marks the certificate invalid (its leftover error can fail the
      // handshake on our SNI-dispatching listener); a duplicated AIA, which OpenSSL ignores, we refuse
      for (const f of [files.dupSan, files.dupAia]) {
        const o = await present(f);
        if (o !== 'handshake failed') {
          ok(o);
          expect(o.verified).toBe(false);
        }
      }
      const dupAia = await present(files.dupAia);
      expect(dupAia).not.toBe('handshake failed');
      expect((dupAia as PeerIdentity).verify_error).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    } finally {
      await close(server);
    }
  });
});
