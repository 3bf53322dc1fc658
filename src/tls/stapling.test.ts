// OCSP stapling of our own server certificate: the response comes from `openssl ocsp` (the
// responder in our certificate's AIA, on 127.0.0.1) and is read back by `openssl s_client -status`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import type * as tls from 'node:tls';
import * as net from 'node:net';
import { CertificateAuthority, x509, type IssuedCertificate } from './pki/index.js';
import { TlsContextRegistry } from './registry.js';
import { createTlsServer } from './server.js';
import { refreshAt } from './stapling.js';
import type { TrustEvent } from './domains.js';
import { TempDir, listen, close, hasOpenssl } from './testkit.js';
import { OcspResponder } from './testing/ocsp-responder.js';

/** `openssl s_client -status` against 127.0.0.1:port; its output (the server runs in this process: async). */
function sClientStatus(port: number, caFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-status', '-CAfile', caFile, '-servername', 'gw.stapling.example', '-verify_return_error'], { timeout: 30_000 }, (err, stdout) =>
      err && !stdout ? reject(err) : resolve(stdout),
    );
    p.stdin!.end();
  });
}

const thisUpdateOf = (out: string) => /This Update: (.*)/.exec(out)?.[1];

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('refreshAt', () => {
  const h = 3_600_000;
  it('halfway between thisUpdate and nextUpdate, or after the maximum age if sooner, never sooner than a second', () => {
    expect(refreshAt({ thisUpdate: 0, nextUpdate: 4 * h, fetchedAt: 0 }, 24 * h)).toBe(2 * h);
    expect(refreshAt({ thisUpdate: 0, nextUpdate: 4 * h, fetchedAt: 0 }, h)).toBe(h);
    expect(refreshAt({ thisUpdate: 0, nextUpdate: 2000, fetchedAt: 1500 }, h)).toBe(2500);
    expect(refreshAt({ thisUpdate: 0, nextUpdate: Number.POSITIVE_INFINITY, fetchedAt: 10 }, h)).toBe(10 + h);
  });
});

describe.skipIf(!hasOpenssl)('OCSP stapling on our server (openssl ocsp, openssl s_client -status)', () => {
  let dir: TempDir;
  let root: CertificateAuthority;
  let responder: OcspResponder;
  let gw: IssuedCertificate;
  let gwDown: IssuedCertificate;
  let registry: TlsContextRegistry;
  let server: tls.Server;
  let port = 0;
  const events: TrustEvent[] = [];

  beforeAll(async () => {
    dir = new TempDir();
    root = await CertificateAuthority.createRoot({ subject: 'CN=Stapling Root, O=Lab' });
    const signer = await root.issue({ subject: 'CN=OCSP Responder, O=Lab', extKeyUsage: ['1.3.6.1.5.5.7.3.9'] });
    responder = new OcspResponder({ dir: dir.path, caPem: root.certPem, signerCertPem: signer.certPem, signerKeyPem: signer.keyPem });
    const url = await responder.listen();
    const aia = (u: string) => [new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName('url', u)] })];
    gw = await root.issue({ subject: 'CN=gw.stapling.example', san: { dns: ['gw.stapling.example'] }, usage: 'server', extensions: aia(url) });
    // a responder nobody answers at (a port just closed)
    const tmp = net.createServer();
    const closed = await listen(tmp);
    await close(tmp);
    gwDown = await root.issue({ subject: 'CN=gw.stapling.example', san: { dns: ['gw.stapling.example'] }, usage: 'server', extensions: aia(`http://127.0.0.1:${closed}/`) });
    responder.set(gw, 'good');
    dir.write('root.pem', root.certPem);
    dir.writeCert('gw', gw);
    dir.writeCert('gw-down', gwDown);
    registry = await TlsContextRegistry.load(
      {
        server_domains: {
          // cache_s: 2, so that the test sees a refresh; the response itself is good for an hour
          stapling: { cert: 'gw.pem', key: 'gw.key', ca: ['root.pem'], verify: false, ocsp: { stapling: true, cache_s: 2 } },
          down: { cert: 'gw-down.pem', key: 'gw-down.key', ca: ['root.pem'], verify: false, ocsp: { stapling: true, timeout_ms: 500 } },
        },
      },
      { baseDir: dir.path },
    );
    registry.on('trust', (ev: TrustEvent) => events.push(ev));
    server = createTlsServer({ registry, domain: 'stapling', onConnection: (s) => s.end() });
    port = await listen(server);
  });

  afterAll(async () => {
    registry?.close();
    if (server) await close(server);
    await responder?.close();
    dir?.remove();
  });

  it('a client that asks gets our response, and it says good', async () => {
    const out = await sClientStatus(port, `${dir.path}/root.pem`);
    expect(out).toContain('OCSP Response Status: successful');
    expect(out).toContain('Cert Status: good');
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    expect(responder.queries).toBeGreaterThanOrEqual(1);
  });

  it('fetched again before it runs out, without a handshake asking: the next client gets the newer response', async () => {
    const first = thisUpdateOf(await sClientStatus(port, `${dir.path}/root.pem`));
    expect(first).toBeDefined();
    const stapler = registry.serverDomain('stapling').stapler!;
    const seen = stapler.updates;
    await until(() => stapler.updates > seen, 'a refreshed response');
    const second = thisUpdateOf(await sClientStatus(port, `${dir.path}/root.pem`));
    expect(second).toBeDefined();
    expect(Date.parse(second!)).toBeGreaterThan(Date.parse(first!));
  });

  it('a responder that cannot be reached: the handshake goes on without a staple, the failure is reported', async () => {
    const srv = createTlsServer({ registry, domain: 'down', onConnection: (s) => s.end() });
    const p = await listen(srv);
    try {
      const out = await sClientStatus(p, `${dir.path}/root.pem`);
      expect(out).toContain('OCSP response: no response sent');
      expect(out).toMatch(/Verify return code: 0 \(ok\)/);
      expect(events.some((e) => e.domain === 'down' && e.kind === 'ocsp-staple' && e.level === 'warn')).toBe(true);
    } finally {
      await close(srv);
    }
  });
});
