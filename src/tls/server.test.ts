// Inbound TLS with real sockets on 127.0.0.1 and real certificates from the test PKI.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tls from 'node:tls';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { CertificateAuthority, selfSigned, unknownCriticalExtension, withRawSerial, withRawSubjectCn, type IssuedCertificate } from './pki/index.js';
import { TlsContextRegistry } from './registry.js';
import { createTlsServer } from './server.js';
import type { PeerIdentity } from './identity.js';
import { TlsConfigError, type TlsDomainsConfig, type ServerDomainConfig } from './domains.js';
import { certInfo } from './certinfo.js';
import { TempDir, listen, close, rawClient, nextSession } from './testkit.js';
import { validateIdentity } from './schema-check.js';

type Outcome = { kind: 'accepted' | 'refused'; identity: PeerIdentity; domain: string } | { kind: 'handshake-error'; code: string };

/** A server whose outcomes are awaited in order. */
class Harness {
  server!: tls.Server;
  port = 0;
  private waiters: ((o: Outcome) => void)[] = [];
  private queue: Outcome[] = [];
  readonly logs: string[] = [];
  constructor(
    readonly registry: TlsContextRegistry,
    readonly domain: string,
  ) {}
  async start(): Promise<this> {
    const push = (o: Outcome) => {
      const w = this.waiters.shift();
      if (w) w(o);
      else this.queue.push(o);
    };
    this.server = createTlsServer({
      registry: this.registry,
      domain: this.domain,
      onConnection: (socket, identity, d) => {
        socket.resume();
        push({ kind: 'accepted', identity, domain: d.name });
      },
      onRefused: (identity, d) => push({ kind: 'refused', identity, domain: d.name }),
      onHandshakeError: (err) => push({ kind: 'handshake-error', code: String(err.code ?? err.message) }),
      logger: {
        info: (_o: unknown, m?: string) => this.logs.push(`info ${m}`),
        warn: (o: unknown, m?: string) => this.logs.push(`warn ${m} ${JSON.stringify(o)}`),
        error: (_o: unknown, m?: string) => this.logs.push(`error ${m}`),
        debug: () => {},
      } as never,
    });
    this.port = await listen(this.server);
    return this;
  }
  next(): Promise<Outcome> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((r) => this.waiters.push(r));
  }
  /** Connects with `cert` and returns the server-side outcome. */
  async connect(cert?: IssuedCertificate, extra: { servername?: string; session?: Buffer } = {}): Promise<Outcome> {
    const c = await rawClient(this.port, { cert, ...extra });
    const o = await this.next();
    c.socket?.destroy();
    return o;
  }
  stop(): Promise<void> {
    return close(this.server);
  }
}

let dir: TempDir;
let rootA: CertificateAuthority, interA: CertificateAuthority, rootB: CertificateAuthority;
const leaf: Record<string, IssuedCertificate> = {};
let gwA: IssuedCertificate, gwB: IssuedCertificate;

beforeAll(async () => {
  dir = new TempDir();
  rootA = await CertificateAuthority.createRoot({ subject: 'CN=Federation A Root, O=FedA, C=US' });
  interA = await rootA.createIntermediate({ subject: 'CN=Federation A Issuing, O=FedA' });
  rootB = await CertificateAuthority.createRoot({ subject: 'CN=Federation B Root, O=FedB', key: 'rsa' });
  gwA = await rootA.issue({ subject: 'CN=gw.atlanta.example', san: { dns: ['atlanta.example'], uri: ['sip:atlanta.example'] } });
  gwB = await rootB.issue({ subject: 'CN=gw.biloxi.example', san: { dns: ['biloxi.example'] } });
  leaf.valid = await rootA.issue({
    subject: 'CN=sbc.chicago.example, OU=Voice, O=FedA, C=US',
    san: { dns: ['chicago.example'], uri: ['sip:chicago.example', 'https://x.example/'], email: ['ops@chicago.example'], ip: ['127.0.0.1'] },
  });
  leaf.viaIntermediate = await interA.issue({ subject: 'CN=0004F22B3EB5', san: { uri: ['sip:bob@example.org'] } });
  leaf.unknownCa = await rootB.issue({ subject: 'CN=stranger.example' });
  leaf.expired = await rootA.issue({ subject: 'CN=old.example', validity: 'expired' });
  leaf.notYet = await rootA.issue({ subject: 'CN=future.example', validity: 'not-yet-valid' });
  leaf.wrongUsage = await rootA.issue({ subject: 'CN=codesigner.example', extKeyUsage: ['codeSigning'] });
  leaf.selfSigned = await selfSigned({ subject: 'CN=Bob' });
  leaf.revoked = await rootA.issue({ subject: 'CN=revoked.example' });
  leaf.rsa = await rootA.issue({ subject: 'CN=rsa.example', key: 'rsa' });
  rootA.revoke(leaf.revoked);
  dir.write('rootA.pem', rootA.certPem);
  dir.write('rootB.pem', rootB.certPem);
  dir.write('rootA.crl', (await rootA.crl()).pem);
  dir.writeCert('gwA', gwA);
  dir.writeCert('gwB', gwB);
  dir.write('cn.map', '# phones\n0004F22B3EB5\tbob@example.org,Example.NET\n\nBob\talice@example.org\n');
});
afterAll(() => dir.remove());

function domain(over: Partial<ServerDomainConfig> = {}): ServerDomainConfig {
  return { cert: 'gwA.pem', key: 'gwA.key', ca: ['rootA.pem'], verify: true, require: true, ...over };
}

async function harness(cfg: TlsDomainsConfig, name = 'default'): Promise<Harness> {
  const reg = await TlsContextRegistry.load(cfg, { baseDir: dir.path });
  return new Harness(reg, name).start();
}

describe('client certificate verification (require: true)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ server_domains: { default: domain({ crl: ['rootA.crl'], cn_map: 'cn.map', verify_depth: 0 }) } });
  });
  afterAll(() => h.stop());

  it('accepts a valid peer and describes it', async () => {
    const o = await h.connect(leaf.valid);
    expect(o.kind).toBe('accepted');
    if (o.kind === 'handshake-error') return;
    const id = o.identity;
    expect(id).toMatchObject({ presented: true, verified: true });
    expect(id).not.toHaveProperty('verify_error'); // absent, not null: `not input.identity.verify_error` holds
    expect(id.subject).toMatchObject({ cn: 'sbc.chicago.example', o: 'FedA', ou: 'Voice', c: 'US', string: 'CN=sbc.chicago.example,OU=Voice,O=FedA,C=US' });
    expect(id.subject!.rdns.map((r) => r.type)).toEqual(['CN', 'OU', 'O', 'C'].reverse());
    expect(id.issuer!.string).toBe('CN=Federation A Root,O=FedA,C=US');
    expect(id.san).toEqual({
      dns: ['chicago.example'],
      uri: ['sip:chicago.example', 'https://x.example/'],
      sip_uris: ['sip:chicago.example'],
      email: ['ops@chicago.example'],
      ip: ['127.0.0.1'],
    });
    expect(id.serial).toBe(leaf.valid.serial);
    expect(id.key).toEqual({ type: 'ec', bits: 256, curve: 'prime256v1' });
    expect(id.key_usage).toEqual(['digitalSignature']);
    expect(id.ext_key_usage).toEqual(['serverAuth', 'clientAuth']);
    expect(id.chain!.map((c) => c.subject.cn)).toEqual(['sbc.chicago.example', 'Federation A Root']);
    expect(id.tls!.version).toMatch(/^TLSv1\.[23]$/);
    expect(id.tls!.resumed).toBe(false);
    expect(id.local).toMatchObject({ role: 'server', domain: 'default', address: '127.0.0.1', port: h.port });
    expect(id.local.subject!.cn).toBe('gw.atlanta.example');
    expect(id.remote.address).toBe('127.0.0.1');
    expect(validateIdentity(id)).toEqual([]);
  });

  it('fingerprints match node:crypto', async () => {
    const o = await h.connect(leaf.rsa);
    if (o.kind === 'handshake-error') throw new Error('handshake failed');
    const x = new (await import('node:crypto')).X509Certificate(leaf.rsa.certPem);
    expect(o.identity.fingerprint!.sha256).toBe(x.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(o.identity.fingerprint!.sha1).toBe(x.fingerprint.replace(/:/g, '').toLowerCase());
    expect(o.identity.key).toEqual({ type: 'rsa', bits: 2048 });
    expect(o.identity.key_usage).toEqual(['digitalSignature', 'keyEncipherment']);
  });

  const refusals: [string, string][] = [
    ['unknownCa', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['expired', 'CERT_HAS_EXPIRED'],
    ['notYet', 'CERT_NOT_YET_VALID'],
    ['wrongUsage', 'INVALID_PURPOSE'],
    ['selfSigned', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['revoked', 'CERT_REVOKED'],
  ];
  for (const [name, code] of refusals) {
    it(`refuses ${name} with ${code}`, async () => {
      const o = await h.connect(leaf[name]);
      expect(o.kind).toBe('refused');
      if (o.kind !== 'refused') return;
      expect(o.identity).toMatchObject({ presented: true, verified: false, verify_error: code });
      expect(validateIdentity(o.identity)).toEqual([]);
    });
  }

  it('refuses a missing intermediate', async () => {
    // Only the leaf, without the intermediate the server does not know.
    const lone = Object.create(leaf.viaIntermediate, { chainPem: { value: leaf.viaIntermediate.certPem } });
    const o = await h.connect(lone);
    expect(o.kind).toBe('refused');
    if (o.kind === 'refused') expect(o.identity.verify_error).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('refuses a chain deeper than verify_depth (0 intermediates allowed)', async () => {
    const o = await h.connect(leaf.viaIntermediate);
    expect(o.kind).toBe('refused');
    if (o.kind === 'refused') expect(o.identity.verify_error).toBe('CERT_CHAIN_TOO_LONG');
  });

  it('refuses a peer without a certificate', async () => {
    const o = await h.connect(undefined);
    expect(o.kind).toBe('refused');
    if (o.kind === 'refused') {
      expect(o.identity).toMatchObject({ presented: false, verified: false, verify_error: 'NO_PEER_CERTIFICATE' });
      expect(validateIdentity(o.identity)).toEqual([]);
    }
  });

  it('logs each refusal with its reason', () => {
    expect(h.logs.some((l) => l.includes('peer refused') && l.includes('CERT_REVOKED'))).toBe(true);
  });
});

describe('verify: true, require: false', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ server_domains: { default: domain({ require: false, cn_map: 'cn.map', verify_depth: 4 }) } });
  });
  afterAll(() => h.stop());

  it('accepts a peer without a certificate as unverified', async () => {
    const o = await h.connect(undefined);
    expect(o.kind).toBe('accepted');
    if (o.kind === 'accepted') expect(o.identity).toMatchObject({ presented: false, verified: false, verify_error: 'NO_PEER_CERTIFICATE' });
  });

  it('accepts an invalid certificate as unverified, with the reason', async () => {
    const o = await h.connect(leaf.unknownCa);
    expect(o.kind).toBe('accepted');
    if (o.kind === 'accepted') expect(o.identity).toMatchObject({ presented: true, verified: false, verify_error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('verifies a chain through an intermediate and maps the CN', async () => {
    const o = await h.connect(leaf.viaIntermediate);
    expect(o.kind).toBe('accepted');
    if (o.kind !== 'accepted') return;
    expect(o.identity.verified).toBe(true);
    expect(o.identity.chain!.map((c) => c.subject.cn)).toEqual(['0004F22B3EB5', 'Federation A Issuing', 'Federation A Root']);
    expect(o.identity.chain!.map((c) => c.is_ca)).toEqual([false, true, true]);
    expect(o.identity.san!.sip_uris).toEqual(['sip:bob@example.org']);
    expect(o.identity.mapped_identities).toEqual(['bob@example.org', 'example.net']);
    expect(validateIdentity(o.identity)).toEqual([]);
  });
});

describe('verify: false', () => {
  it('does not ask for a certificate', async () => {
    const h = await harness({ server_domains: { default: domain({ verify: false, require: false }) } });
    const o = await h.connect(leaf.valid);
    await h.stop();
    expect(o.kind).toBe('accepted');
    if (o.kind === 'accepted') expect(o.identity.presented).toBe(false);
  });
});

describe('server domain selection', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({
      server_domains: {
        atlanta: domain({ sni: ['atlanta.example'], require: false }),
        biloxi: domain({ cert: 'gwB.pem', key: 'gwB.key', ca: ['rootB.pem'], sni: ['biloxi.example', '*.biloxi.example'], verify: false, require: false }),
      },
    }, 'atlanta');
  });
  afterAll(() => h.stop());

  async function serverCertCn(servername?: string): Promise<{ cn: string; outcome: Outcome }> {
    const c = await rawClient(h.port, { cert: leaf.valid, servername });
    const cn = (c.socket!.getPeerCertificate() as tls.PeerCertificate).subject.CN as string;
    const outcome = await h.next();
    c.socket!.destroy();
    return { cn, outcome };
  }

  it('SNI selects the first domain', async () => {
    const { cn, outcome } = await serverCertCn('atlanta.example');
    expect(cn).toBe('gw.atlanta.example');
    expect(outcome.kind === 'accepted' && outcome.domain).toBe('atlanta');
    if (outcome.kind === 'accepted') expect(outcome.identity.tls!.sni).toBe('atlanta.example');
  });

  it('SNI selects the second domain, with its own verify setting', async () => {
    const { cn, outcome } = await serverCertCn('biloxi.example');
    expect(cn).toBe('gw.biloxi.example');
    expect(outcome.kind === 'accepted' && outcome.domain).toBe('biloxi');
    // biloxi has verify: false, so no certificate was asked for even though atlanta asks.
    if (outcome.kind === 'accepted') expect(outcome.identity.presented).toBe(false);
  });

  it('a wildcard SNI entry selects its domain', async () => {
    const { cn } = await serverCertCn('pbx.biloxi.example');
    expect(cn).toBe('gw.biloxi.example');
  });

  it('without SNI, the listening socket’s domain serves', async () => {
    const { cn, outcome } = await serverCertCn(undefined);
    expect(cn).toBe('gw.atlanta.example');
    expect(outcome.kind === 'accepted' && outcome.domain).toBe('atlanta');
    if (outcome.kind === 'accepted') {
      expect(outcome.identity.tls!.sni).toBeUndefined();
      expect(outcome.identity.verified).toBe(true);
    }
  });

  it('an unknown SNI name falls back to the socket’s domain', async () => {
    const { cn } = await serverCertCn('unknown.example');
    expect(cn).toBe('gw.atlanta.example');
  });
});

describe('SNI with mixed key types on one listener', () => {
  let gwRsa: IssuedCertificate;
  let gwEc: IssuedCertificate;
  beforeAll(async () => {
    gwRsa = await rootA.issue({ subject: 'CN=gw.rsa.example', san: { dns: ['rsa.example'] }, key: 'rsa' });
    gwEc = await rootA.issue({ subject: 'CN=gw.ec.example', san: { dns: ['ec.example'] } });
    dir.writeCert('gwRsa', gwRsa);
    dir.writeCert('gwEc', gwEc);
  });
  const domains = (): TlsDomainsConfig['server_domains'] => ({
    ec: domain({ cert: 'gwEc.pem', key: 'gwEc.key', sni: ['ec.example'], require: false }),
    rsa: domain({ cert: 'gwRsa.pem', key: 'gwRsa.key', sni: ['rsa.example'], require: false }),
  });

  async function served(h: Harness, servername: string | undefined, maxVersion?: tls.SecureVersion): Promise<{ cn: string; type: string; domain?: string }> {
    const c = await rawClient(h.port, { cert: leaf.valid, servername, maxVersion });
    expect(c.connected).toBe(true);
    const x = c.socket!.getPeerX509Certificate()!;
    const outcome = await h.next();
    c.socket!.destroy();
    return { cn: /CN=([^\n]*)/.exec(x.subject)![1], type: x.publicKey.asymmetricKeyType!, domain: outcome.kind === 'accepted' ? outcome.domain : outcome.kind };
  }

  for (const [listener, other] of [['ec', 'rsa'], ['rsa', 'ec']] as const) {
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      it(`${listener.toUpperCase()} listener, ${other.toUpperCase()} SNI domain, ${version}`, async () => {
        const h = await harness({ server_domains: domains() }, listener);
        try {
          const expect1 = { cn: `gw.${other}.example`, type: other, domain: other };
          expect(await served(h, `${other}.example`, version)).toEqual(expect1);
          expect(await served(h, undefined, version)).toEqual({ cn: `gw.${listener}.example`, type: listener, domain: listener });
          expect(await served(h, `${listener}.example`, version)).toEqual({ cn: `gw.${listener}.example`, type: listener, domain: listener });
        } finally {
          await h.stop();
        }
      });
    }
  }

  it('an SNI domain applies its own minimum TLS version', async () => {
    const h = await harness({ server_domains: { ...domains(), rsa: { ...domains()!.rsa, min_version: 'TLSv1.3' } } }, 'ec');
    try {
      const refused = await rawClient(h.port, { cert: leaf.valid, servername: 'rsa.example', maxVersion: 'TLSv1.2' });
      expect(refused.connected).toBe(false);
      const o = await h.next();
      expect(o.kind).toBe('handshake-error');
      // The listener's own domain still speaks TLS 1.2.
      expect(await served(h, 'ec.example', 'TLSv1.2')).toMatchObject({ domain: 'ec' });
    } finally {
      await h.stop();
    }
  });

  it('a session ticket from one domain does not resume on another', async () => {
    const h = await harness({ server_domains: domains() }, 'ec');
    try {
      const first = await rawClient(h.port, { cert: leaf.valid, servername: 'ec.example' });
      const ticket = await nextSession(first.socket!);
      await h.next();
      first.socket!.destroy();
      const same = await rawClient(h.port, { cert: leaf.valid, servername: 'ec.example', session: ticket });
      const o1 = await h.next();
      same.socket!.destroy();
      expect(o1.kind === 'accepted' && o1.identity.tls!.resumed).toBe(true);
      const other = await rawClient(h.port, { cert: leaf.valid, servername: 'rsa.example', session: ticket });
      const o2 = await h.next();
      other.socket!.destroy();
      expect(o2.kind === 'accepted' && o2.domain).toBe('rsa');
      expect(o2.kind === 'accepted' && o2.identity.tls!.resumed).toBe(false);
    } finally {
      await h.stop();
    }
  });
});

describe('what a refused peer sees (openssl s_client -msg)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ server_domains: { default: domain({ crl: ['rootA.crl'] }) } });
  });
  afterAll(() => h.stop());

  /** Runs s_client against the harness with stdin held open; resolves its -msg trace once it exits. */
  async function sClient(args: string[]): Promise<string> {
    const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${h.port}`, '-msg', '-noservername', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const exited = new Promise((r) => p.on('exit', r));
    const kill = setTimeout(() => p.kill(), 8000); // s_client waits on stdin; the server's close ends it
    await exited;
    clearTimeout(kill);
    return out;
  }

  for (const [version, flag, alert] of [
    ['TLS 1.3', '-tls1_3', /Alert.*\n.*fatal certificate_required|fatal certificate_required/],
    ['TLS 1.2', '-tls1_2', /handshake_failure/],
  ] as const) {
    it(`a peer without a certificate gets a TLS alert (${version})`, async () => {
      const out = await sClient([flag]);
      expect(out).toMatch(alert);
      const o = await h.next();
      expect(o.kind).toBe('refused');
      if (o.kind === 'refused') {
        expect(o.identity).toMatchObject({ presented: false, verify_error: 'NO_PEER_CERTIFICATE', remote: { address: '127.0.0.1' } });
        expect(validateIdentity(o.identity)).toEqual([]);
      }
      expect(h.logs.some((l) => l.includes('TLS alert sent'))).toBe(true);
    });
  }

  for (const [name, pick, code] of [
    ['unknown CA', () => leaf.unknownCa, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['revoked by CRL', () => leaf.revoked, 'CERT_REVOKED'],
  ] as const) {
    it(`a ${name} peer is closed with close_notify after the handshake`, async () => {
      const peer = pick();
      dir.writeCert('sclient', peer);
      const out = await sClient(['-cert', `${dir.path}/sclient.pem`, '-key', `${dir.path}/sclient.key`]);
      expect(out).toMatch(/warning close_notify/);
      expect(out).not.toMatch(/fatal/);
      const o = await h.next();
      expect(o.kind).toBe('refused');
      if (o.kind === 'refused') expect(o.identity.verify_error).toBe(code);
    });
  }
});

describe('reload', () => {
  it('picks up a new CRL, rotates ticket keys, and can drop connections', async () => {
    const ca = await CertificateAuthority.createRoot({ subject: 'CN=Reload Root' });
    const peer = await ca.issue({ subject: 'CN=peer.example' });
    dir.write('reload-ca.pem', ca.certPem);
    dir.write('reload.crl', (await ca.crl()).pem);
    const h = await harness({
      server_domains: { default: domain({ ca: ['reload-ca.pem'], crl: ['reload.crl'], min_version: 'TLSv1.3', require: false }) },
    });
    try {
      // First connection: verified; keep it open and keep its session ticket.
      const first = await rawClient(h.port, { cert: peer });
      const ticket = await nextSession(first.socket!);
      const o1 = await h.next();
      expect(o1.kind === 'accepted' && o1.identity.verified).toBe(true);

      // Resumption works before the reload.
      const again = await rawClient(h.port, { cert: peer, session: ticket });
      const o2 = await h.next();
      again.socket!.destroy();
      expect(o2.kind === 'accepted' && o2.identity.tls!.resumed).toBe(true);
      expect(o2.kind === 'accepted' && o2.identity.verified).toBe(true);

      // Revoke, reload with dropConnections.
      ca.revoke(peer);
      dir.write('reload.crl', (await ca.crl()).pem);
      const closed = new Promise((r) => first.socket!.once('close', r));
      const res = await h.registry.reload({ dropConnections: true });
      expect(res.failed).toEqual([]);
      expect(res.dropped).toBeGreaterThanOrEqual(1);
      await closed;

      // The old ticket no longer resumes, and the peer is now revoked.
      const after = await rawClient(h.port, { cert: peer, session: ticket });
      const o3 = await h.next();
      after.socket?.destroy();
      expect(o3.kind).toBe('accepted');
      if (o3.kind === 'accepted') {
        expect(o3.identity.tls!.resumed).toBe(false);
        expect(o3.identity.verify_error).toBe('CERT_REVOKED');
      }
    } finally {
      await h.stop();
    }
  });

  it('a domain whose files fail keeps its previous material', async () => {
    dir.write('flaky.pem', gwA.chainPem);
    const h = await harness({ server_domains: { default: domain({ cert: 'flaky.pem' }) } });
    try {
      dir.write('flaky.pem', '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
      const res = await h.registry.reload();
      expect(res.failed.map((f) => f.domain)).toEqual(['default']);
      expect(res.failed[0].error).toContain('flaky.pem');
      const o = await h.connect(leaf.valid);
      expect(o.kind).toBe('accepted');
    } finally {
      await h.stop();
    }
  });
});

describe('maximum connection age', () => {
  it('closes a connection once it is older than max_connection_age_s', async () => {
    const h = await harness({ server_domains: { default: domain({ max_connection_age_s: 0.2 }) } });
    try {
      const c = await rawClient(h.port, { cert: leaf.valid });
      const o = await h.next();
      expect(o.kind).toBe('accepted');
      await new Promise((r) => c.socket!.once('close', r));
      expect(h.logs.some((l) => l.includes('maximum connection age'))).toBe(true);
    } finally {
      await h.stop();
    }
  });
});

describe('bad input', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ server_domains: { default: domain({ require: false, handshake_timeout_ms: 300 }) } });
  });
  afterAll(() => h.stop());

  function rawTcp(bytes: Buffer | null): Promise<void> {
    return new Promise((resolve) => {
      const s = net.connect(h.port, '127.0.0.1', () => {
        if (bytes) s.write(bytes);
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      if (!bytes) return;
    });
  }

  it('a ClientHello trickled in tiny segments still gets a handshake', async () => {
    // A proxy forwarding the client's first bytes one per segment (Nagle off, a pause between), to a
    // server with the default handshake timeout (the trickle takes a while).
    const slow = await harness({ server_domains: { default: domain({ require: false }) } });
    const proxy = net.createServer((inbound) => {
      const out = net.connect(slow.port, '127.0.0.1');
      out.setNoDelay(true);
      let split = 0; // bytes sent one per segment so far
      const queue: Buffer[] = [];
      let pumping = false;
      const pump = () => {
        const next = queue.shift();
        if (!next || out.destroyed) return void (pumping = false);
        pumping = true;
        out.write(next);
        setTimeout(pump, 1);
      };
      inbound.on('data', (d: Buffer) => {
        let i = 0;
        for (; i < d.length && split < 90; i++, split++) queue.push(d.subarray(i, i + 1));
        if (i < d.length) queue.push(d.subarray(i));
        if (!pumping) pump();
      });
      out.on('data', (d) => inbound.write(d));
      const end = () => (inbound.destroy(), out.destroy());
      inbound.on('close', end).on('error', end);
      out.on('close', end).on('error', end);
    });
    const port = await listen(proxy);
    try {
      const c = await rawClient(port, { cert: leaf.valid });
      const o = await slow.next();
      c.socket?.destroy();
      expect(c.connected).toBe(true);
      expect(o.kind).toBe('accepted');
    } finally {
      await close(proxy);
      await slow.stop();
    }
  });

  it('garbage bytes fail the handshake, the listener goes on', async () => {
    await rawTcp(Buffer.from('INVITE sip:bob@biloxi.example SIP/2.0\r\n\r\n'));
    const o = await h.next();
    expect(o.kind).toBe('handshake-error');
    expect((await h.connect(leaf.valid)).kind).toBe('accepted');
  });

  it('a truncated ClientHello times out, the listener goes on', async () => {
    // A TLS record header announcing 512 bytes, then only 5 of them: the server waits, then gives up.
    await rawTcp(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]));
    const o = await h.next();
    expect(o.kind).toBe('handshake-error');
    expect(h.logs.some((l) => l.includes('handshake failed'))).toBe(true);
    expect((await h.connect(leaf.valid)).kind).toBe('accepted');
  });

  it('a huge SAN list is described in full', async () => {
    const dns = Array.from({ length: 400 }, (_, i) => `host${i}.many.example`);
    const many = await rootA.issue({ subject: 'CN=many.example', san: { dns } });
    const o = await h.connect(many);
    expect(o.kind).toBe('accepted');
    if (o.kind === 'accepted') {
      expect(o.identity.san!.dns).toHaveLength(400);
      expect(o.identity.verified).toBe(true);
    }
  });

  it('an unknown critical extension makes the certificate unverified', async () => {
    const odd = await rootA.issue({ subject: 'CN=critical.example', extensions: [unknownCriticalExtension()] });
    const o = await h.connect(odd);
    expect(o.kind).toBe('accepted');
    if (o.kind === 'accepted') expect(o.identity).toMatchObject({ verified: false, verify_error: 'UNHANDLED_CRITICAL_EXTENSION' });
  });

  it('a negative serial is reported, not fatal', async () => {
    const base = await rootA.issue({ subject: 'CN=negative.example' });
    const neg = withRawSerial(base, rootA, 'ff01');
    const o = await h.connect(neg);
    expect(o.kind).toBe('accepted');
    if (o.kind === 'accepted') {
      expect(o.identity.serial).toBe('ff01');
      expect(validateIdentity(o.identity)).toEqual([]);
    }
  });

  it('invalid UTF-8 in a name: our parser copes, OpenSSL refuses the file with a clear error', async () => {
    const base = await rootA.issue({ subject: 'CN=XYZ' });
    const bad = withRawSubjectCn(base, rootA, Buffer.from([0x41, 0xff, 0xfe]));
    const info = certInfo(new Uint8Array(bad.cert.rawData));
    expect(info.subject.cn).toHaveLength(3);
    expect(info.subject.cn!.startsWith('A')).toBe(true);
    dir.writeCert('badutf8', bad);
    const err = await TlsContextRegistry.load({ server_domains: { bad: domain({ cert: 'badutf8.pem', key: 'badutf8.key' }) } }, { baseDir: dir.path }).catch((e) => e);
    expect(err).toBeInstanceOf(TlsConfigError);
    expect(String(err.message)).toMatch(/TLS domain "bad": .*badutf8\.pem: bad certificate: .*utf8/i);
  });
});
