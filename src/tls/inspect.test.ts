// `inspectCertificate` says what a live handshake says about key usage and purpose: every
// certificate here is presented for real (to our server domain as a client certificate, and by a
// TLS server to our client domain), and the offline verdict must equal the live one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tls from 'node:tls';
import { CertificateAuthority, type IssuedCertificate } from './pki/index.js';
import { TlsContextRegistry } from './registry.js';
import { createTlsServer } from './server.js';
import { connectTls } from './client.js';
import { inspectCertificate } from './inspect.js';
import type { PeerIdentity } from './identity.js';
import { TempDir, listen, close, rawClient } from './testkit.js';

let dir: TempDir;
let root: CertificateAuthority;
const certs: Record<string, IssuedCertificate> = {};

beforeAll(async () => {
  dir = new TempDir();
  root = await CertificateAuthority.createRoot({ subject: 'CN=Purpose Root' });
  certs.both = await root.issue({ subject: 'CN=both', usage: 'both' });
  certs.serverOnly = await root.issue({ subject: 'CN=server-only', usage: 'server' });
  certs.clientOnly = await root.issue({ subject: 'CN=client-only', usage: 'client' });
  certs.noEku = await root.issue({ subject: 'CN=no-eku', usage: 'none' });
  certs.codeSigning = await root.issue({ subject: 'CN=code', extKeyUsage: ['codeSigning'] });
  certs.anyEku = await root.issue({ subject: 'CN=any', extKeyUsage: ['2.5.29.37.0'] });
  certs.kuAgreementOnly = await root.issue({ subject: 'CN=ka', keyUsage: ['keyAgreement'] });
  certs.kuCertSignOnly = await root.issue({ subject: 'CN=certsign', keyUsage: ['keyCertSign'] });
  dir.write('root.pem', root.certPem);
  dir.writeCert('gw', await root.issue({ subject: 'CN=gw.purpose.example' }));
});
afterAll(() => dir.remove());

async function liveAsClient(c: IssuedCertificate): Promise<string | null> {
  const registry = await TlsContextRegistry.load({ server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['root.pem'], require: false } } }, { baseDir: dir.path });
  let id!: PeerIdentity;
  const seen = new Promise<void>((resolve) => {
    const srv = createTlsServer({ registry, domain: 'd', onConnection: (s, identity) => ((id = identity), s.destroy(), void close(srv).then(resolve)) });
    void listen(srv).then((port) => rawClient(port, { cert: c }).then((r) => r.socket?.on('error', () => {})));
  });
  await seen;
  return id.verify_error ?? null;
}

async function liveAsServer(c: IssuedCertificate): Promise<string | null | 'no handshake'> {
  const srv = tls.createServer({ cert: c.chainPem, key: c.keyPem });
  srv.on('tlsClientError', () => {});
  const port = await listen(srv);
  const registry = await TlsContextRegistry.load({ client_domains: { default: { ca: ['root.pem'], verify: false } } }, { baseDir: dir.path });
  try {
    const conn = await connectTls({ registry, host: '127.0.0.1', port });
    conn.socket.destroy();
    return conn.identity.verify_error ?? null;
  } catch {
    return 'no handshake';
  } finally {
    await close(srv);
  }
}

describe('cert inspect --purpose agrees with live handshakes', () => {
  it('as a client certificate (the default)', async () => {
    const verdicts: Record<string, [string | null, string | null]> = {};
    for (const [name, c] of Object.entries(certs)) {
      const offline = (await inspectCertificate(c.chainPem, { caPem: root.certPem })).verify_error ?? null;
      verdicts[name] = [offline, await liveAsClient(c)];
    }
    for (const [name, [offline, live]] of Object.entries(verdicts)) expect({ name, offline }).toEqual({ name, offline: live });
    // And the point of it: a server-only certificate is flagged for client use.
    expect(verdicts.serverOnly[0]).toBe('INVALID_PURPOSE');
    expect(verdicts.both[0]).toBeNull();
  });

  it('as a server certificate', async () => {
    let compared = 0;
    for (const [name, c] of Object.entries(certs)) {
      const offline = await inspectCertificate(c.chainPem, { caPem: root.certPem, purpose: 'server' });
      expect(offline.local.role).toBe('client');
      const live = await liveAsServer(c);
      if (live === 'no handshake') continue; // OpenSSL would not even serve with it
      compared++;
      expect({ name, offline: offline.verify_error ?? null }).toEqual({ name, offline: live });
    }
    expect(compared).toBeGreaterThanOrEqual(6);
    expect((await inspectCertificate(certs.clientOnly.chainPem, { caPem: root.certPem, purpose: 'server' })).verify_error).toBe('INVALID_PURPOSE');
  });

  it('purpose any skips the check', async () => {
    expect((await inspectCertificate(certs.codeSigning.chainPem, { caPem: root.certPem, purpose: 'any' })).verified).toBe(true);
  });
});
