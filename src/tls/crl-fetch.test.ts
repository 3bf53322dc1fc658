// CRLs from distribution points (served over http on 127.0.0.1) and stale CRLs (crl_stale), with
// real TLS peers presenting real chains.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as http from 'node:http';
import type * as tls from 'node:tls';
import { CertificateAuthority, x509, type IssuedCertificate } from './pki/index.js';
import { TlsContextRegistry } from './registry.js';
import { createTlsServer } from './server.js';
import type { TrustEvent } from './domains.js';
import type { PeerIdentity } from './identity.js';
import { TempDir, listen, close, rawClient } from './testkit.js';

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir: TempDir;
let root: CertificateAuthority;
let issuing: CertificateAuthority;
let cdp: http.Server;
let cdpUrl = '';
/** what the distribution point serves (PEM), and how often it was asked */
let served = '';
let fetches = 0;
const leaf: Record<string, IssuedCertificate> = {};

beforeAll(async () => {
  dir = new TempDir();
  cdp = http.createServer((_req, res) => {
    fetches++;
    res.writeHead(served ? 200 : 404);
    res.end(served);
  });
  cdpUrl = `http://127.0.0.1:${await listen(cdp)}/issuing.crl`;
  root = await CertificateAuthority.createRoot({ subject: 'CN=CDP Root, O=Lab' });
  issuing = await root.createIntermediate({ subject: 'CN=CDP Issuing, O=Lab' });
  const withCdp = { extensions: [new x509.CRLDistributionPointsExtension([cdpUrl])] };
  for (const n of ['good', 'revoked', 'later']) leaf[n] = await issuing.issue({ subject: `CN=${n}.cdp.example`, usage: 'client', ...withCdp });
  leaf.gw = await root.issue({ subject: 'CN=gw.cdp.example', san: { dns: ['gw.cdp.example'] }, usage: 'server' });
  dir.write('root.pem', root.certPem);
  dir.writeCert('gw', leaf.gw);
  issuing.revoke(leaf.revoked);
});

afterAll(async () => {
  if (cdp) await close(cdp);
  dir?.remove();
});

interface Domain {
  registry: TlsContextRegistry;
  events: TrustEvent[];
  connect(c: IssuedCertificate): Promise<PeerIdentity>;
  stop(): Promise<void>;
}

/** A server domain (require: false, so every verdict reaches onConnection) on its own listener. */
async function domain(extra: object): Promise<Domain> {
  const registry = await TlsContextRegistry.load({ server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['root.pem'], require: false, ...extra } } }, { baseDir: dir.path });
  const events: TrustEvent[] = [];
  registry.on('trust', (ev: TrustEvent) => events.push(ev));
  const seen: PeerIdentity[] = [];
  let wake = () => {};
  const srv: tls.Server = createTlsServer({ registry, domain: 'd', onConnection: (s, identity) => (seen.push(identity), s.destroy(), wake()) });
  const port = await listen(srv);
  return {
    registry,
    events,
    async connect(c) {
      const n = seen.length;
      const got = new Promise<void>((r) => (wake = r));
      const cl = await rawClient(port, { cert: c });
      if (seen.length === n) await got;
      cl.socket?.destroy();
      return seen[n]!;
    },
    async stop() {
      registry.close();
      await close(srv);
    },
  };
}

describe('CRLs from distribution points', () => {
  it('fetched when a peer first names its distribution point, refreshed at nextUpdate; an update is reported', async () => {
    const now = Date.now();
    // valid for 4 s: fetched again about 0.4 s before it runs out
    served = (await issuing.crl({ thisUpdate: new Date(now - 1000), nextUpdate: new Date(now + 4000) })).pem;
    const d = await domain({ crl_distribution_points: { fetch: true } });
    try {
      const before = fetches;
      expect((await d.connect(leaf.revoked!)).verify_error).toBe('CERT_REVOKED');
      expect(fetches).toBe(before + 1);
      expect((await d.connect(leaf.good!)).verified).toBe(true);
      expect(fetches).toBe(before + 1); // cached
      // the CA revokes another certificate; the next CRL is served
      issuing.revoke(leaf.later!);
      served = (await issuing.crl({ thisUpdate: new Date(Date.now() - 1000), nextUpdate: new Date(Date.now() + 3_600_000) })).pem;
      await until(() => d.events.filter((e) => e.kind === 'crl-updated' && e.fields.url === cdpUrl).length >= 2, 'the refresh at nextUpdate');
      expect(fetches).toBe(before + 2);
      expect((await d.connect(leaf.later!)).verify_error).toBe('CERT_REVOKED');
    } finally {
      await d.stop();
    }
  });

  it('a CRL that does not verify with its issuer is not used; the failure is reported', async () => {
    const impostor = await CertificateAuthority.createRoot({ subject: 'CN=CDP Issuing, O=Lab' }); // same name, other key
    impostor.revoke(leaf.good!);
    served = (await impostor.crl()).pem;
    const d = await domain({ crl_distribution_points: { fetch: true } });
    try {
      expect((await d.connect(leaf.good!)).verified).toBe(true);
      expect(d.events.find((e) => e.kind === 'crl-fetch-failed')?.fields.error).toMatch(/does not verify/);
    } finally {
      await d.stop();
    }
  });
});

describe('crl_stale', () => {
  let staleFile = '';
  beforeAll(async () => {
    staleFile = dir.write('stale.crl', (await issuing.crl({ thisUpdate: new Date(Date.now() - 7_200_000), nextUpdate: new Date(Date.now() - 3_600_000) })).pem);
    dir.write('issuing.pem', issuing.certPem);
  });

  it('reject (default): the issuer\'s certificates fail with CRL_HAS_EXPIRED; the stale CRL is reported once', async () => {
    const d = await domain({ crl: [staleFile] });
    try {
      expect((await d.connect(leaf.good!)).verify_error).toBe('CRL_HAS_EXPIRED');
      // a certificate it lists: CERT_REVOKED, the last error OpenSSL finds (after CRL_HAS_EXPIRED)
      expect((await d.connect(leaf.revoked!)).verify_error).toBe('CERT_REVOKED');
      const stale = d.events.filter((e) => e.kind === 'crl-stale');
      expect(stale).toHaveLength(1);
      expect(stale[0]).toMatchObject({ domain: 'd', role: 'server', level: 'warn', fields: { source: staleFile, action: 'rejected' } });
    } finally {
      await d.stop();
    }
  });

  it('accept_with_warning: still used for what it revokes, the others verify; reported once', async () => {
    const d = await domain({ crl: [staleFile], crl_stale: 'accept_with_warning' });
    try {
      expect((await d.connect(leaf.good!)).verified).toBe(true);
      expect((await d.connect(leaf.revoked!)).verify_error).toBe('CERT_REVOKED');
      const stale = d.events.filter((e) => e.kind === 'crl-stale');
      expect(stale).toHaveLength(1);
      expect(stale[0]!.fields.action).toBe('accepted');
    } finally {
      await d.stop();
    }
  });
});
