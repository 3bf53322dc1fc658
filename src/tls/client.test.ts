// Outbound TLS (client domains, RFC 5922) with real sockets, the CN map parser, the matcher on its
// own, and interop with Debian's openssl s_server / s_client.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tls from 'node:tls';
import { spawn, type ChildProcess } from 'node:child_process';
import { CertificateAuthority, type IssuedCertificate } from './pki/index.js';
import { TlsContextRegistry } from './registry.js';
import { connectTls, TlsVerifyError } from './client.js';
import { createTlsServer } from './server.js';
import { matchSipDomain } from './rfc5922.js';
import { certInfo } from './certinfo.js';
import { parseCnMap, CnMapError } from './cnmap.js';
import { TempDir, listen, close, hasOpenssl } from './testkit.js';
import { validateIdentity } from './schema-check.js';
import type { PeerIdentity } from './identity.js';

let dir: TempDir;
let fedA: CertificateAuthority, fedB: CertificateAuthority;
const certs: Record<string, IssuedCertificate> = {};

beforeAll(async () => {
  dir = new TempDir();
  fedA = await CertificateAuthority.createRoot({ subject: 'CN=FedA Root, O=FedA' });
  fedB = await CertificateAuthority.createRoot({ subject: 'CN=FedB Root, O=FedB' });
  certs.gwA = await fedA.issue({ subject: 'CN=gw, O=FedA', san: { dns: ['gw.fed-a.example'] } });
  certs.gwB = await fedB.issue({ subject: 'CN=gw, O=FedB', san: { dns: ['gw.fed-b.example'] } });
  certs.uriSan = await fedA.issue({ subject: 'CN=whatever', san: { uri: ['sip:atlanta.example'], dns: ['biloxi.example'] } });
  certs.dnsSan = await fedA.issue({ subject: 'CN=atlanta.example', san: { dns: ['sip.biloxi.example', 'biloxi.example'] } });
  certs.wildcard = await fedA.issue({ subject: 'CN=x', san: { dns: ['*.chicago.example'] } });
  certs.cnOnly = await fedA.issue({ subject: 'CN=cn-only.example' });
  certs.emailOnly = await fedA.issue({ subject: 'CN=atlanta.example', san: { email: ['ops@atlanta.example'] } });
  dir.write('fedA.pem', fedA.certPem);
  dir.write('fedB.pem', fedB.certPem);
  for (const [k, v] of Object.entries(certs)) dir.writeCert(k, v);
});
afterAll(() => dir.remove());

describe('RFC 5922 matcher', () => {
  const m = (name: string, expected: string, allowWildcard = false) => matchSipDomain(certInfo(new Uint8Array(certs[name].cert.rawData)), expected, { allowWildcard });
  it('uses URI SANs when present, ignoring DNS SANs and CN', () => {
    expect(m('uriSan', 'atlanta.example')).toEqual({ matched: true, by: 'uri', value: 'sip:atlanta.example' });
    expect(m('uriSan', 'biloxi.example').matched).toBe(false);
  });
  it('uses DNS SANs without URI SANs, case-insensitively', () => {
    expect(m('dnsSan', 'BILOXI.example')).toMatchObject({ matched: true, by: 'dns' });
    expect(m('dnsSan', 'atlanta.example').matched).toBe(false); // CN not used when SANs exist
  });
  it('refuses wildcards unless configured, and then only one label', () => {
    expect(m('wildcard', 'sip.chicago.example').matched).toBe(false);
    expect(m('wildcard', 'sip.chicago.example', true)).toMatchObject({ matched: true, by: 'dns' });
    expect(m('wildcard', 'a.b.chicago.example', true).matched).toBe(false);
    expect(m('wildcard', 'chicago.example', true).matched).toBe(false);
  });
  it('falls back to the CN only without any SAN', () => {
    expect(m('cnOnly', 'cn-only.example')).toMatchObject({ matched: true, by: 'cn' });
    expect(m('emailOnly', 'atlanta.example').matched).toBe(false);
  });
  it('a user URI SAN does not prove a domain', () => {
    const info = { subject: { string: '', rdns: [] }, san: { dns: [], uri: ['sip:bob@example.org'], sip_uris: ['sip:bob@example.org'], email: [], ip: [] } };
    expect(matchSipDomain(info, 'example.org').matched).toBe(false);
  });
});

describe('CN mapping file', () => {
  it('parses identities, comments and blank lines', () => {
    const map = parseCnMap('# Polycom phones\n\n0004F22B3EB5\talice@example.org\n0004F224A6AC\tbob@example.org,eve@Example.ORG\n0004F2266D79\tpocock.com.au\n', 'map.txt');
    expect([...map]).toEqual([
      ['0004F22B3EB5', ['alice@example.org']],
      ['0004F224A6AC', ['bob@example.org', 'eve@example.org']],
      ['0004F2266D79', ['pocock.com.au']],
    ]);
  });
  const bad: [string, RegExp][] = [
    ['0004F22B3EB5 alice@example.org', /map\.txt:2: .*no TAB/],
    ['\talice@example.org', /map\.txt:2: empty CN/],
    ['0004F22B3EB5\t', /map\.txt:2: no identities/],
    ['0004F22B3EB5\talice@example.org,', /map\.txt:2: bad identity "" .*stray comma/],
    ['0004F22B3EB5\t@example.org', /map\.txt:2: bad identity "@example.org"/],
    ['0004F22B3EB5\talice@exa mple.org', /map\.txt:2: bad identity/],
    ['0004F22B3EB5\ta\tb', /map\.txt:2: more than one TAB/],
  ];
  for (const [line, re] of bad) {
    it(`rejects ${JSON.stringify(line)} with its line number`, () => {
      const err = (() => {
        try {
          parseCnMap(`# ok\n${line}\n`, 'map.txt');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(CnMapError);
      expect((err as Error).message).toMatch(re);
    });
  }
  it('rejects a CN mapped twice', () => {
    expect(() => parseCnMap('A\tx.example\nA\ty.example\n', 'm')).toThrow(/m:2: CN "A" is mapped twice/);
  });
});

describe('client domains over real connections', () => {
  let registry: TlsContextRegistry;
  let server: tls.Server;
  let port = 0;
  const seenByServer: PeerIdentity[] = [];
  let serverCert = 'dnsSan';

  beforeAll(async () => {
    registry = await TlsContextRegistry.load(
      {
        server_domains: {
          // The far side: presents `serverCert`, wants a client certificate from either federation.
          peer: { cert: 'dnsSan.pem', key: 'dnsSan.key', ca: ['fedA.pem', 'fedB.pem'], verify: true, require: true },
          peerUri: { cert: 'uriSan.pem', key: 'uriSan.key', ca: ['fedA.pem', 'fedB.pem'], sni: ['uri.test'] },
          peerWild: { cert: 'wildcard.pem', key: 'wildcard.key', ca: ['fedA.pem', 'fedB.pem'], sni: ['wild.test'] },
          peerCn: { cert: 'cnOnly.pem', key: 'cnOnly.key', ca: ['fedA.pem', 'fedB.pem'], sni: ['cn.test'] },
        },
        client_domains: {
          fedA: { cert: 'gwA.pem', key: 'gwA.key', ca: ['fedA.pem'], destinations: ['sip.atlanta.example', 'sip.chicago.example'] },
          fedB: { cert: 'gwB.pem', key: 'gwB.key', ca: ['fedA.pem'], destinations: ['127.0.0.1:5999'] },
          default: { cert: 'gwA.pem', key: 'gwA.key', ca: ['fedA.pem'] },
          lax: { cert: 'gwA.pem', key: 'gwA.key', ca: ['fedB.pem'], verify: false },
          wild: { cert: 'gwA.pem', key: 'gwA.key', ca: ['fedA.pem'], allow_wildcard: true },
        },
      },
      { baseDir: dir.path },
    );
    server = createTlsServer({ registry, domain: 'peer', onConnection: (s, id) => (seenByServer.push(id), s.resume()) });
    port = await listen(server);
    void serverCert;
  });
  afterAll(() => close(server));

  it('presents the named client domain’s certificate and validates the server by DNS SAN', async () => {
    const c = await connectTls({ registry, host: '127.0.0.1', port, clientDomain: 'fedB', expectedDomain: 'biloxi.example' });
    expect(c.identity).toMatchObject({ verified: true, expected_domain: 'biloxi.example', local: { role: 'client', domain: 'fedB' } });
    expect(c.identity.local.subject!.o).toBe('FedB');
    expect(validateIdentity(c.identity)).toEqual([]);
    // TLS 1.3: the server judges our certificate after our Finished, so keep the socket until it has.
    await expect.poll(() => seenByServer.at(-1)?.issuer?.o).toBe('FedB');
    c.socket.destroy();
  });

  it('chooses the client domain by destination', () => {
    expect(registry.selectClientDomain({ host: 'sip.chicago.example', port: 5061 }).name).toBe('fedA');
    expect(registry.selectClientDomain({ host: '127.0.0.1', port: 5999 }).name).toBe('fedB');
    expect(registry.selectClientDomain({ host: 'elsewhere.example', port: 5061 }).name).toBe('default');
    expect(registry.selectClientDomain({ name: 'fedB', host: 'sip.chicago.example' }).name).toBe('fedB');
  });

  it('refuses a server whose certificate does not match the expected domain (S4: IP in the R-URI)', async () => {
    const err = await connectTls({ registry, host: '127.0.0.1', port, clientDomain: 'fedA', expectedDomain: 'atlanta.example' }).catch((e) => e);
    expect(err).toBeInstanceOf(TlsVerifyError);
    expect(err.code).toBe('HOSTNAME_MISMATCH');
    expect(validateIdentity(err.identity)).toEqual([]);
  });

  it('URI SAN wins over DNS SAN (SNI picks the far side’s certificate)', async () => {
    const ok = await connectTls({ registry, host: '127.0.0.1', port, clientDomain: 'fedA', expectedDomain: 'atlanta.example', sni: 'uri.test' });
    ok.socket.destroy();
    expect(ok.identity.verified).toBe(true);
    expect(ok.identity.tls!.sni).toBe('uri.test'); // client side: the SNI we sent
    const err = await connectTls({ registry, host: '127.0.0.1', port, clientDomain: 'fedA', expectedDomain: 'biloxi.example', sni: 'uri.test' }).catch((e) => e);
    expect(err.code).toBe('HOSTNAME_MISMATCH');
  });

  it('wildcard refused by default, accepted when the client domain allows it', async () => {
    const err = await connectTls({ registry, host: '127.0.0.1', port, clientDomain: 'fedA', expectedDomain: 'sip.chicago.example', sni: 'wild.test' }).catch((e) => e);
    expect(err.code).toBe('HOSTNAME_MISMATCH');
    const ok = await connectTls({ registry, host: '127.0.0.1', port, clientDomain: 'wild', expectedDomain: 'sip.chicago.example', sni: 'wild.test' });
    ok.socket.destroy();
    expect(ok.identity.verified).toBe(true);
  });

  it('CN fallback without SANs', async () => {
    const ok = await connectTls({ registry, host: '127.0.0.1', port, clientDomain: 'fedA', expectedDomain: 'cn-only.example', sni: 'cn.test' });
    ok.socket.destroy();
    expect(ok.identity.verified).toBe(true);
  });

  it('verify: false connects to an untrusted server but reports it unverified', async () => {
    const c = await connectTls({ registry, host: '127.0.0.1', port, clientDomain: 'lax', expectedDomain: 'biloxi.example' });
    c.socket.destroy();
    expect(c.identity.verified).toBe(false);
    expect(c.identity.verify_error).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/);
  });
});

describe.skipIf(!hasOpenssl)('interop with openssl', () => {
  function run(args: string[], input?: string): ChildProcess {
    const p = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    if (input !== undefined) p.stdin!.end(input);
    return p;
  }

  it('openssl s_client with a client certificate is verified by our server', async () => {
    const reg = await TlsContextRegistry.load({ server_domains: { d: { cert: 'dnsSan.pem', key: 'dnsSan.key', ca: ['fedA.pem', 'fedB.pem'] } } }, { baseDir: dir.path });
    const seen: PeerIdentity[] = [];
    const srv = createTlsServer({ registry: reg, domain: 'd', onConnection: (s, id) => (seen.push(id), s.end()) });
    const p = await listen(srv);
    const cl = run(['s_client', '-connect', `127.0.0.1:${p}`, '-cert', `${dir.path}/gwB.pem`, '-key', `${dir.path}/gwB.key`, '-CAfile', `${dir.path}/fedA.pem`, '-servername', 'biloxi.example', '-verify_return_error'], '');
    let out = '';
    cl.stdout!.on('data', (d) => (out += d));
    await new Promise((r) => cl.on('exit', r));
    await close(srv);
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ verified: true, subject: { o: 'FedB' }, tls: { sni: 'biloxi.example' } });
  });

  it('our client verifies openssl s_server and is verified by it', async () => {
    const sv = run(['s_server', '-accept', '0', '-naccept', '1', '-cert', `${dir.path}/uriSan.pem`, '-key', `${dir.path}/uriSan.key`, '-CAfile', `${dir.path}/fedA.pem`, '-Verify', '2', '-verify_return_error']);
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      sv.stdout!.on('data', (d) => {
        out += d;
        const m = /ACCEPT\s+(?:\S*:)?(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      sv.on('exit', () => reject(new Error(`s_server exited: ${out}`)));
    });
    const reg = await TlsContextRegistry.load({ client_domains: { fedA: { cert: 'gwA.pem', key: 'gwA.key', ca: ['fedA.pem'] } } }, { baseDir: dir.path });
    const c = await connectTls({ registry: reg, host: '127.0.0.1', port, clientDomain: 'fedA', expectedDomain: 'atlanta.example' });
    c.socket.end('hello\n');
    await new Promise((r) => sv.on('exit', r));
    expect(c.identity).toMatchObject({ verified: true, san: { sip_uris: ['sip:atlanta.example'] } });
    expect(out).toMatch(/verify return:1|Client certificate/);
  });
});
