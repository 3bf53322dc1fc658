// buildIdentity on live connections: the peer's intermediates are fetched (getPeerCertificate(true),
// costly) only when the CA list alone cannot extend the chain, and the document equals the one
// identityFromChain makes offline from the certificates the peer presented.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tls from 'node:tls';
import { CertificateAuthority, selfSigned, type IssuedCertificate } from './pki/index.js';
import { TlsContextRegistry } from './registry.js';
import { createTlsServer } from './server.js';
import { buildIdentity, identityFromChain, reverifyIdentity, presentedOf, type PeerIdentity } from './identity.js';
import type { ServerDomain } from './domains.js';
import { TempDir, listen, close, rawClient, nextSession } from './testkit.js';
import { clearCertInfoCache } from './certinfo.js';
import { validateIdentity } from './schema-check.js';

let dir: TempDir;
let root: CertificateAuthority, inter: CertificateAuthority, inter2: CertificateAuthority, other: CertificateAuthority;
const peers: Record<string, IssuedCertificate> = {};

beforeAll(async () => {
  dir = new TempDir();
  root = await CertificateAuthority.createRoot({ subject: 'CN=Id Root, O=Id' });
  inter = await root.createIntermediate({ subject: 'CN=Id Issuing, O=Id' });
  inter2 = await inter.createIntermediate({ subject: 'CN=Id Issuing 2, O=Id' });
  other = await CertificateAuthority.createRoot({ subject: 'CN=Other Root', key: 'rsa' });
  const gw = await root.issue({ subject: 'CN=gw.id.example' });
  peers.direct = await root.issue({ subject: 'CN=direct.id.example' });
  peers.viaInter = await inter.issue({ subject: 'CN=inter.id.example', san: { uri: ['sip:inter.id.example'] } });
  peers.viaTwo = await inter2.issue({ subject: 'CN=two.id.example' });
  peers.unknown = await other.issue({ subject: 'CN=unknown.id.example' });
  peers.self = await selfSigned({ subject: 'CN=self.id.example' });
  dir.writeCert('gw', gw);
  dir.write('root.pem', root.certPem);
  dir.write('all.pem', root.certPem + inter.certPem + inter2.certPem);
});
afterAll(() => dir.remove());

/** The document for the certificates `peer` presents, built offline. */
function offline(peer: IssuedCertificate, domain: ServerDomain | import('./domains.js').ClientDomain, like: PeerIdentity): PeerIdentity {
  const ders = [peer.cert, ...peer.issuers.slice(0, -1)].map((c) => new Uint8Array(c.rawData));
  return identityFromChain(ders, domain, {}, { local: like.local, remote: like.remote, tls: like.tls });
}

/** Connects `peer` to a server of a domain trusting `caFile`, and builds the document live and offline. */
async function bothWays(caFile: string, peer: IssuedCertificate): Promise<{ cheap: PeerIdentity; full: PeerIdentity; domain: ServerDomain; fullWalks: number }> {
  const registry = await TlsContextRegistry.load({ server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: [caFile], verify: true, require: false } } }, { baseDir: dir.path });
  const domain = registry.serverDomain('d');
  let result!: { cheap: PeerIdentity; full: PeerIdentity; domain: ServerDomain; fullWalks: number };
  const done = new Promise<void>((resolve) => {
    const server = createTlsServer({
      registry,
      domain: 'd',
      onConnection(socket) {
        const fullWalks = countFullWalks(socket);
        clearCertInfoCache();
        const cheap = buildIdentity(socket, domain);
        const walks = fullWalks();
        clearCertInfoCache();
        const full = offline(peer, domain, cheap);
        result = { cheap, full, domain, fullWalks: walks };
        socket.destroy();
        void close(server).then(resolve);
      },
    });
    void listen(server).then((port) => rawClient(port, { cert: peer }).then((c) => c.socket?.on('error', () => {})));
  });
  await done;
  return result;
}

/** Counts getPeerCertificate(true) calls on `socket` from now on. */
function countFullWalks(socket: tls.TLSSocket): () => number {
  let n = 0;
  const original = socket.getPeerCertificate.bind(socket);
  socket.getPeerCertificate = ((detailed?: boolean) => {
    if (detailed) n++;
    return original(detailed as true);
  }) as typeof socket.getPeerCertificate;
  return () => n;
}

const cns = (id: PeerIdentity) => id.chain?.map((c) => c.subject.cn);

describe('peer chain: from the CA list, the peer\'s intermediates only when needed', () => {
  it('leaf issued by a trusted root', async () => {
    const { cheap, full, fullWalks } = await bothWays('root.pem', peers.direct);
    expect(cheap).toEqual(full);
    expect(fullWalks).toBe(0);
    expect(cns(cheap)).toEqual(['direct.id.example', 'Id Root']);
    expect(cheap.verified).toBe(true);
  });

  it('intermediates sent by the peer, only the root trusted: full path, same result', async () => {
    const { cheap, full, fullWalks } = await bothWays('root.pem', peers.viaTwo);
    expect(cheap).toEqual(full);
    expect(fullWalks).toBe(1);
    expect(cns(cheap)).toEqual(['two.id.example', 'Id Issuing 2', 'Id Issuing', 'Id Root']);
    expect(cheap.verified).toBe(true);
  });

  it('intermediates also in the CA list: completed from it, same result', async () => {
    for (const peer of [peers.viaInter, peers.viaTwo]) {
      const { cheap, full, fullWalks } = await bothWays('all.pem', peer);
      expect(cheap).toEqual(full);
      expect(fullWalks).toBe(0);
      expect(cheap.verified).toBe(true);
      expect(cheap.chain!.at(-1)!.subject.cn).toBe('Id Root');
    }
  });

  it('unknown CA and self-signed peers', async () => {
    for (const peer of [peers.unknown, peers.self]) {
      const { cheap, full } = await bothWays('root.pem', peer);
      expect(cheap).toEqual(full);
      expect(cheap.verified).toBe(false);
      expect(validateIdentity(cheap)).toEqual([]);
    }
  });

  it('documents of different connections share no mutable state', async () => {
    const { cheap } = await bothWays('root.pem', peers.direct);
    expect(() => (cheap.san!.dns as string[]).push('evil.example')).toThrow(TypeError);
    expect(() => {
      (cheap.subject as { cn?: string }).cn = 'evil';
    }).toThrow(TypeError);
  });
});

describe('resumed sessions', () => {
  it('a resumed TLS 1.3 connection is described the same way both paths', async () => {
    const registry = await TlsContextRegistry.load({ server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['root.pem'], verify: true, require: false } } }, { baseDir: dir.path });
    const domain = registry.serverDomain('d');
    const docs: { cheap: PeerIdentity; full: PeerIdentity }[] = [];
    let wake = () => {};
    const server = createTlsServer({
      registry,
      domain: 'd',
      onConnection(socket) {
        const cheap = buildIdentity(socket, domain);
        const full = offline(peers.viaInter, domain, cheap);
        docs.push({ cheap, full });
        socket.resume();
        wake();
      },
    });
    const port = await listen(server);
    const next = (n: number) => (docs.length >= n ? Promise.resolve() : new Promise<void>((r) => (wake = r)));
    const first = await rawClient(port, { cert: peers.viaInter });
    const ticket = await nextSession(first.socket!);
    await next(1);
    const again = await rawClient(port, { cert: peers.viaInter, session: ticket });
    await next(2);
    first.socket!.destroy();
    again.socket!.destroy();
    await close(server);
    expect(docs[1].cheap.tls!.resumed).toBe(true);
    expect(docs[1].cheap).toEqual(docs[1].full);
    expect(docs[1].cheap.fingerprint).toEqual(docs[0].cheap.fingerprint);
  });
});

describe('client side', () => {
  it('the server chain is completed the same way', async () => {
    const server = tls.createServer({ cert: peers.viaInter.chainPem, key: peers.viaInter.keyPem });
    const port = await listen(server);
    const registry = await TlsContextRegistry.load({ client_domains: { default: { ca: ['all.pem'], verify: false } } }, { baseDir: dir.path });
    const domain = registry.clientDomain('default');
    const socket = tls.connect({ host: '127.0.0.1', port, secureContext: domain.context, rejectUnauthorized: false });
    await new Promise((r) => socket.once('secureConnect', r));
    clearCertInfoCache();
    const cheap = buildIdentity(socket, domain);
    clearCertInfoCache();
    const full = offline(peers.viaInter, domain, cheap);
    socket.destroy();
    await close(server);
    expect(cheap).toEqual(full);
    expect(cns(cheap)).toEqual(['inter.id.example', 'Id Issuing', 'Id Root']);
  });
});

describe('verifying an open connection again', () => {
  it('after a CRL reload: the new document says CERT_REVOKED, the connection fields stay; at a later time: CERT_HAS_EXPIRED', async () => {
    const registry = await TlsContextRegistry.load({ server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['root.pem'], crl: [], verify: true, require: false } } }, { baseDir: dir.path });
    let doc!: PeerIdentity;
    const got = new Promise<void>((resolve) => {
      const server = createTlsServer({ registry, domain: 'd', onConnection: (s, id) => ((doc = id), s.destroy(), void close(server).then(resolve)) });
      void listen(server).then((port) => rawClient(port, { cert: peers.viaInter }).then((c) => c.socket?.on('error', () => {})));
    });
    await got;
    expect(doc.verified).toBe(true);
    expect(presentedOf(doc)!.length).toBeGreaterThanOrEqual(2); // the peer, the intermediate it sent (and CA-list certificates Node links)

    inter.revoke(peers.viaInter);
    dir.write('inter.crl', (await inter.crl()).pem);
    dir.write('root.crl', (await root.crl()).pem);
    await registry.reload({ config: { server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['root.pem'], crl: ['inter.crl', 'root.crl'], verify: true, require: false } } } });
    const again = reverifyIdentity(doc, registry.serverDomain('d'))!;
    expect(again).toMatchObject({ verified: false, verify_error: 'CERT_REVOKED', tls: doc.tls, local: doc.local, remote: doc.remote, subject: doc.subject });
    expect(doc.verified).toBe(true); // the old document is left alone
    expect(validateIdentity(again)).toEqual([]);

    const later = reverifyIdentity(doc, registry.serverDomain('d'), { now: new Date(Date.now() + 400 * 86_400_000) })!;
    expect(later.verified).toBe(false);
    expect(later.verify_error).toBe('CERT_HAS_EXPIRED');
  });
});
