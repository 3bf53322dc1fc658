// OCSP with a real responder: Debian's `openssl ocsp` answers every request (its index file says
// who is revoked), behind a small HTTP front on 127.0.0.1 (openssl ocsp -port cannot bind to a
// single address, so it runs per request with -reqin/-respout). Stapling is checked against
// `openssl s_server -status_file`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CertificateAuthority, x509, type IssuedCertificate } from './pki/index.js';
import { TlsContextRegistry } from './registry.js';
import { createTlsServer } from './server.js';
import { connectTls, TlsVerifyError } from './client.js';
import { checkOcspResponse, ocspRequest, queryResponder } from './ocsp.js';
import { certInfo } from './certinfo.js';
import type { PeerIdentity } from './identity.js';
import { TempDir, listen, close, rawClient, hasOpenssl } from './testkit.js';
import { validateIdentity } from './schema-check.js';

let dir: TempDir;
let root: CertificateAuthority, other: CertificateAuthority;
let signer: IssuedCertificate;
const leaf: Record<string, IssuedCertificate> = {};
let responder: http.Server;
let responderUrl: string;
let queries = 0;
let responderSigner = 'signer';

/** One index.txt line (openssl ca format). */
function indexLine(c: IssuedCertificate, revoked: boolean): string {
  const t = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const serial = certInfo(new Uint8Array(c.cert.rawData)).serial.toUpperCase();
  return [revoked ? 'R' : 'V', t(c.cert.notAfter), revoked ? t(new Date(Date.now() - 60_000)) : '', serial, 'unknown', `/CN=${serial}`].join('\t') + '\n';
}

async function startResponder(): Promise<void> {
  responder = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      queries++;
      const n = queries;
      dir.write(`req${n}.der`, Buffer.concat(chunks));
      const p = spawn('openssl', ['ocsp', '-index', `${dir.path}/index.txt`, '-CA', `${dir.path}/root.pem`, '-rsigner', `${dir.path}/${responderSigner}.pem`, '-rkey', `${dir.path}/${responderSigner}.key`, '-reqin', `${dir.path}/req${n}.der`, '-respout', `${dir.path}/resp${n}.der`, '-ndays', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let errText = '';
      p.stderr!.on('data', (d) => (errText += d));
      p.on('exit', (code) => {
        if (code !== 0) {
          res.writeHead(500);
          res.end(errText);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/ocsp-response' });
        res.end(readFileSync(`${dir.path}/resp${n}.der`));
      });
    });
  });
  const port = await listen(responder);
  responderUrl = `http://127.0.0.1:${port}/`;
}

beforeAll(async () => {
  if (!hasOpenssl) return;
  dir = new TempDir();
  await startResponder();
  root = await CertificateAuthority.createRoot({ subject: 'CN=OCSP Root, O=Lab' });
  other = await CertificateAuthority.createRoot({ subject: 'CN=Other Root' });
  signer = await root.issue({ subject: 'CN=OCSP Responder, O=Lab', extKeyUsage: ['1.3.6.1.5.5.7.3.9'] });
  const aia = () => [new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName('url', responderUrl)] })];
  leaf.good = await root.issue({ subject: 'CN=good.ocsp.example', san: { dns: ['good.ocsp.example'] }, extensions: aia() });
  leaf.revoked = await root.issue({ subject: 'CN=revoked.ocsp.example', san: { dns: ['revoked.ocsp.example'] }, extensions: aia() });
  leaf.unlisted = await root.issue({ subject: 'CN=unlisted.ocsp.example', extensions: aia() });
  leaf.noAia = await root.issue({ subject: 'CN=noaia.ocsp.example' });
  const gw = await root.issue({ subject: 'CN=gw.ocsp.example', san: { dns: ['gw.ocsp.example'] } });
  dir.write('index.txt', indexLine(leaf.good, false) + indexLine(leaf.revoked, true) + indexLine(leaf.noAia, false) + indexLine(gw, false));
  dir.write('root.pem', root.certPem);
  dir.writeCert('signer', signer);
  dir.writeCert('otherca', other);
  dir.writeCert('gw', gw);
  for (const [k, c] of Object.entries(leaf)) dir.writeCert(k, c);
});
afterAll(async () => {
  if (!hasOpenssl) return;
  await close(responder);
  dir.remove();
});

const der = (c: IssuedCertificate) => new Uint8Array(c.cert.rawData);
const ask = async (c: IssuedCertificate) => queryResponder(responderUrl, ocspRequest(der(c), der(root)), 5000);

describe.skipIf(!hasOpenssl)('OCSP responses from openssl ocsp', () => {
  it('good, revoked and unknown', async () => {
    expect(checkOcspResponse(await ask(leaf.good), der(leaf.good), der(root)).verdict).toBeNull();
    expect(checkOcspResponse(await ask(leaf.revoked), der(leaf.revoked), der(root)).verdict).toBe('CERT_REVOKED');
    expect(checkOcspResponse(await ask(leaf.unlisted), der(leaf.unlisted), der(root)).verdict).toBe('OCSP_CERT_UNKNOWN');
  });

  it('refuses a response about another certificate, a tampered one, and one signed by a stranger', async () => {
    const good = await ask(leaf.good);
    expect(checkOcspResponse(good, der(leaf.revoked), der(root)).verdict).toBe('OCSP_VERIFY_FAILED');
    const tampered = Buffer.from(good);
    tampered[tampered.length - 3] ^= 0x01;
    expect(checkOcspResponse(tampered, der(leaf.good), der(root)).verdict).toBe('OCSP_VERIFY_FAILED');
    expect(checkOcspResponse(Buffer.from('not DER'), der(leaf.good), der(root)).verdict).toBe('OCSP_VERIFY_FAILED');
    responderSigner = 'otherca';
    try {
      expect(checkOcspResponse(await ask(leaf.good), der(leaf.good), der(root)).verdict).toBe('OCSP_VERIFY_FAILED');
    } finally {
      responderSigner = 'signer';
    }
  });

  it('refuses a response that is out of date', async () => {
    const good = await ask(leaf.good);
    expect(checkOcspResponse(good, der(leaf.good), der(root), new Date(Date.now() + 3 * 86_400_000)).verdict).toBe('OCSP_VERIFY_FAILED');
  });
});

describe.skipIf(!hasOpenssl)('server side: the client certificate checked with the responder', () => {
  type Outcome = { kind: string; identity: PeerIdentity };
  async function server(ocsp: object): Promise<{ connect: (c: IssuedCertificate) => Promise<Outcome>; stop: () => Promise<void> }> {
    const registry = await TlsContextRegistry.load({ server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['root.pem'], ocsp } } }, { baseDir: dir.path });
    const outcomes: Outcome[] = [];
    let wake = () => {};
    const srv = createTlsServer({
      registry,
      domain: 'd',
      onConnection: (s, identity) => (outcomes.push({ kind: 'accepted', identity }), s.destroy(), wake()),
      onRefused: (identity) => (outcomes.push({ kind: 'refused', identity }), wake()),
    });
    const port = await listen(srv);
    const connect = async (c: IssuedCertificate) => {
      const n = outcomes.length;
      const seen = new Promise<void>((r) => (wake = r));
      const cl = await rawClient(port, { cert: c });
      if (outcomes.length === n) await seen;
      cl.socket?.destroy();
      return outcomes[n];
    };
    return { stop: () => close(srv), connect };
  }

  it('accepts a good certificate, refuses a revoked one (CERT_REVOKED), and caches answers', async () => {
    const s = await server({ responder: true });
    try {
      const before = queries;
      const ok = await s.connect(leaf.good);
      expect(ok).toMatchObject({ kind: 'accepted', identity: { verified: true } });
      if (ok.kind === 'accepted') expect(ok.identity).not.toHaveProperty('verify_error');
      const bad = await s.connect(leaf.revoked);
      expect(bad).toMatchObject({ kind: 'refused', identity: { verified: false, verify_error: 'CERT_REVOKED' } });
      expect(validateIdentity(bad.identity)).toEqual([]);
      expect(queries - before).toBe(2);
      await s.connect(leaf.good);
      expect(queries - before).toBe(2); // from the cache
    } finally {
      await s.stop();
    }
  });

  it('no answer: soft fail by default, OCSP_UNAVAILABLE with require', async () => {
    const soft = await server({ responder: 'http://127.0.0.1:9/', timeout_ms: 500 });
    const hard = await server({ responder: 'http://127.0.0.1:9/', timeout_ms: 500, require: true });
    try {
      expect(await soft.connect(leaf.good)).toMatchObject({ kind: 'accepted', identity: { verified: true } });
      expect(await hard.connect(leaf.good)).toMatchObject({ kind: 'refused', identity: { verify_error: 'OCSP_UNAVAILABLE' } });
    } finally {
      await soft.stop();
      await hard.stop();
    }
  });
});

describe.skipIf(!hasOpenssl)('client side: a stapled response from openssl s_server', () => {
  async function sServer(cert: string, status: Buffer): Promise<{ port: number; stop: () => void }> {
    dir.write(`${cert}.staple.der`, status);
    const p = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-naccept', '1', '-cert', `${dir.path}/${cert}.pem`, '-key', `${dir.path}/${cert}.key`, '-status_file', `${dir.path}/${cert}.staple.der`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d;
        const m = /ACCEPT\s+\S*?:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      };
      p.stdout.on('data', onData);
      p.stderr.on('data', onData);
      p.on('exit', () => reject(new Error(`s_server exited: ${out}`)));
      setTimeout(() => (p.kill(), reject(new Error(`s_server did not start: ${out}`))), 5000).unref();
    });
    return { port, stop: () => p.kill() };
  }

  it('a revoked server certificate is refused from its staple alone; a good one passes', async () => {
    const registry = await TlsContextRegistry.load({ client_domains: { default: { ca: ['root.pem'], ocsp: { stapling: true } } } }, { baseDir: dir.path });
    const before = queries;
    const revoked = await sServer('revoked', await ask(leaf.revoked));
    const goodStaple = await ask(leaf.good);
    const askedForStaples = queries - before;
    try {
      const err = await connectTls({ registry, host: '127.0.0.1', port: revoked.port, expectedDomain: 'revoked.ocsp.example' }).catch((e) => e);
      expect(err).toBeInstanceOf(TlsVerifyError);
      expect(err.code).toBe('CERT_REVOKED');
    } finally {
      revoked.stop();
    }
    const good = await sServer('good', goodStaple);
    try {
      const c = await connectTls({ registry, host: '127.0.0.1', port: good.port, expectedDomain: 'good.ocsp.example' });
      expect(c.identity).toMatchObject({ verified: true });
      expect(c.identity).not.toHaveProperty('verify_error');
      c.socket.destroy();
    } finally {
      good.stop();
    }
    expect(queries - before).toBe(askedForStaples); // the client itself asked no responder
  });
});
