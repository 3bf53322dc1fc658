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
import { join } from 'node:path';
import { bastionBin, built } from '../cli/testing/launcher.js';

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
    const conn = await connectTls({ registry, host: '127.0.0.1', port, expectedDomain: null }); // the chain verdict alone, as inspected offline
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

describe.skipIf(!built)('bastion cert inspect (launcher) prints the document a live connection builds', () => {
  it('as a client certificate and as a server certificate, with CRLs, partial chains and an expected name', async () => {
    const inter = await root.createIntermediate({ subject: 'CN=Purpose Issuing' });
    const peer = await inter.issue({ subject: 'CN=peer.purpose.example', san: { dns: ['peer.purpose.example'], uri: ['sip:purpose.example'] } });
    const revoked = await inter.issue({ subject: 'CN=revoked.purpose.example' });
    inter.revoke(revoked);
    dir.write('inter.pem', inter.certPem);
    dir.write('inter.crl', (await inter.crl()).pem);
    const peerFile = dir.writeCert('peer', peer).cert;
    const revokedFile = dir.writeCert('revoked', revoked).cert;
    const strip = ({ local: _l, remote: _r, tls: _t, ...rest }: PeerIdentity) => rest;

    // our server domain: partial chain (only the intermediate trusted), the intermediate's CRL
    const registry = await TlsContextRegistry.load(
      {
        server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['inter.pem'], crl: ['inter.crl'], partial_chain: true, require: false } },
        client_domains: { default: { ca: ['root.pem'], verify: false } },
      },
      { baseDir: dir.path },
    );
    const seen: PeerIdentity[] = [];
    const srv = createTlsServer({ registry, domain: 'd', onConnection: (s, id) => (seen.push(id), s.destroy()) });
    const port = await listen(srv);
    for (const c of [peer, revoked]) {
      const r = await rawClient(port, { cert: c });
      r.socket?.on('error', () => {});
      for (let i = 0; i < 200 && seen.length < (c === peer ? 1 : 2); i++) await new Promise((w) => setTimeout(w, 10));
    }
    await close(srv);
    const asClient = await Promise.all([peerFile, revokedFile].map((f) => bastionBin(['cert', 'inspect', f, '--ca', join(dir.path, 'inter.pem'), '--crl', join(dir.path, 'inter.crl'), '--partial-chain'])));
    expect(seen.map((d) => d.verify_error ?? null)).toEqual([null, 'CERT_REVOKED']);
    expect(asClient.map((r) => strip(JSON.parse(r.stdout)))).toEqual(seen.map(strip));

    // our client domain checking a server for a SIP domain
    const tlsServer = tls.createServer({ cert: peer.chainPem, key: peer.keyPem });
    const tport = await listen(tlsServer);
    const conn = await connectTls({ registry, host: '127.0.0.1', port: tport, expectedDomain: 'purpose.example' });
    conn.socket.destroy();
    await close(tlsServer);
    const asServer = await bastionBin(['cert', 'inspect', peerFile, '--ca', join(dir.path, 'root.pem'), '--purpose', 'server', '--expected-domain', 'purpose.example']);
    expect(conn.identity.verified).toBe(true);
    expect(strip(JSON.parse(asServer.stdout))).toEqual(strip(conn.identity));
  }, 120_000);
});
