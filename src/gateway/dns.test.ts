// RFC 3263 next hops through a real DNS server: the gateway's config points proxy.dns.servers at a
// dnsmasq on 127.0.0.1 (Debian package dnsmasq) serving NAPTR/SRV/A records whose targets are real
// peers on 127.0.0.1: a TLS peer with a certificate for biloxi.test, a UDP peer that must not be
// chosen (TLS is preferred), and a TLS peer whose certificate is for another domain (RFC 5922).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import YAML from 'yaml';
import { CertificateAuthority } from '../tls/pki/index.js';
import { TempDir } from '../tls/testkit.js';
import { Gateway } from './gateway.js';
import { parseConfig, validateConfig } from './config.js';
import { DnsResolver3263, NextHopError, routeUri } from './nexthop.js';
import { TlsPeerServer, UdpPeer, answer, isReq } from './testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';
import { DNSMASQ, startDnsmasq } from '../sip/testing/dnsmasq.js';

if (!DNSMASQ) console.warn('dns.test: dnsmasq is not installed (apt-get install -y dnsmasq); skipping the gateway RFC 3263 tests');
const ready = await compilerReady();

describe.skipIf(!DNSMASQ || !ready)('gateway: RFC 3263 next hop through dnsmasq (proxy.dns)', () => {
  let dir: TempDir;
  let dnsmasq: ChildProcess;
  let dnsServer: string;
  let gw: Gateway;
  let biloxi: TlsPeerServer; // sbc.biloxi.test: certificate for sip:biloxi.test
  let biloxiUdp: UdpPeer; // _sip._udp.biloxi.test: reachable, but TLS is preferred
  let impostor: TlsPeerServer; // evil.test's SRV target, with a certificate for other.test
  let ua: UdpPeer; // the caller, over UDP into the gateway
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = new TempDir();
    const ca = await CertificateAuthority.createRoot({ subject: 'CN=Test Federation Root, O=Fed' });
    const issue = (cn: string, domain: string) => ca.issue({ subject: `CN=${cn}, O=Fed`, san: { dns: [cn], uri: [`sip:${domain}`] }, usage: 'both' });
    const caFile = dir.write('ca.pem', ca.certPem);
    const gwCert = dir.writeCert('gw', await issue('gw.bastion.test', 'bastion.test'));
    const biloxiCert = await issue('sbc.biloxi.test', 'biloxi.test');
    const otherCert = await issue('sbc.other.test', 'other.test');

    biloxi = new TlsPeerServer({ cert: biloxiCert.chainPem, key: biloxiCert.keyPem, ca: ca.certPem });
    impostor = new TlsPeerServer({ cert: otherCert.chainPem, key: otherCert.keyPem, ca: ca.certPem });
    await biloxi.listen();
    await impostor.listen();
    biloxiUdp = new UdpPeer();
    await biloxiUdp.bind();

    const started = await startDnsmasq(
      [
        // NAPTR orders UDP first; the gateway prefers TLS anyway
        '--naptr-record=biloxi.test,10,50,s,SIP+D2U,,_sip._udp.biloxi.test',
        '--naptr-record=biloxi.test,20,50,s,SIPS+D2T,,_sips._tcp.biloxi.test',
        `--srv-host=_sip._udp.biloxi.test,sbc.biloxi.test,${biloxiUdp.port},10,10`,
        `--srv-host=_sips._tcp.biloxi.test,sbc.biloxi.test,${biloxi.port},10,10`,
        '--host-record=sbc.biloxi.test,127.0.0.1',
        // evil.test: no NAPTR; its TLS SRV leads to a server that cannot prove evil.test
        `--srv-host=_sips._tcp.evil.test,sbc.evil.test,${impostor.port},10,10`,
        '--host-record=sbc.evil.test,127.0.0.1',
        // broken.test: delegated to a server that never answers (a DNS failure, not a "no such name")
        '--server=/broken.test/127.0.0.1#9',
      ],
      'sbc.biloxi.test',
    );
    dnsmasq = started.proc;
    dnsServer = started.server;

    const policyDir = join(dir.path, 'policy');
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'decision.rego'), 'package sip\n\ndecision := {"allow": true}\n');
    const yaml = YAML.stringify({
      listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
      client_domains: { default: { cert: gwCert.cert, key: gwCert.key, ca: [caFile], verify: true } },
      policy: { path: policyDir },
      proxy: { dns: { servers: [started.server], timeout_ms: 100, tries: 1, ipv6: false } },
      log: { level: 'info', decisions: true },
    });
    const loaded = parseConfig(yaml, 'dns-test.yaml', dir.path);
    expect(loaded.config.proxy?.dns?.servers).toEqual([started.server]);
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    gw = await Gateway.start(loaded, { logger });
    ua = new UdpPeer();
    await ua.bind();
  });

  afterAll(async () => {
    ua?.close();
    biloxiUdp?.close();
    await gw?.stop();
    await biloxi?.close();
    await impostor?.close();
    dnsmasq?.kill('SIGTERM');
    dir?.remove();
  });

  const options = (callId: string, ruri: string) =>
    [
      `OPTIONS ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bK-${callId}`,
      'Max-Forwards: 70',
      'From: <sip:alice@atlanta.test>;tag=a1',
      `To: <${ruri}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  const send = (callId: string, ruri: string) => ua.send(options(callId, ruri), gw.listener('udp').port);
  const finalFor = (callId: string) => ua.inbox.wait((m) => m.kind === 'response' && m.status >= 200 && m.callId === callId, `final response for ${callId}`);

  it('sip:bob@biloxi.test goes NAPTR → SRV _sips._tcp → A to the TLS peer (not the UDP one), which proves biloxi.test', async () => {
    send('dns-1', 'sip:bob@biloxi.test');
    const req = await biloxi.inbox.wait((m) => isReq('OPTIONS')(m) && m.callId === 'dns-1', 'OPTIONS at sbc.biloxi.test');
    expect(req.ruri.raw).toBe('sip:bob@biloxi.test');
    expect(req.via[0]!.transport).toBe('TLS');
    expect(biloxi.clientSubjects).toEqual(['CN=gw.bastion.test,O=Fed']);
    biloxi.peerOf(req).send(answer(req, 200, 'OK', { toTag: 'b1' }));
    const r = await finalFor('dns-1');
    expect(r.status).toBe(200);
    expect(biloxiUdp.inbox.messages).toHaveLength(0);
    // the RFC 5922 domain checked on the connection is the Request-URI's, not the SRV target's
    expect(logLines.find((l) => l.msg === 'tls: outbound connection up')).toMatchObject({
      remote: `127.0.0.1:${biloxi.port}`,
      expected_domain: 'biloxi.test',
      peer: 'CN=sbc.biloxi.test,O=Fed',
    });
  });

  it('a TLS peer whose certificate does not cover the domain is refused: 502, nothing delivered', async () => {
    send('dns-2', 'sip:bob@evil.test');
    const r = await finalFor('dns-2');
    expect(r.status).toBe(502);
    expect(r.reason).toBe('Next Hop Not Trusted');
    expect(impostor.inbox.messages).toHaveLength(0);
    expect(logLines.some((l) => l.msg === 'proxy: next hop unreachable' && l.call_id === 'dns-2' && l.status === 502)).toBe(true);
  });

  it('a domain DNS does not know → 404 Next Hop Not Found', async () => {
    send('dns-3', 'sip:bob@nowhere.test');
    const r = await finalFor('dns-3');
    expect(r.status).toBe(404);
    expect(r.reason).toBe('Next Hop Not Found');
  });

  it('a DNS failure (the server for the domain never answers; timeout_ms: 100, tries: 1) → 503 Next Hop Lookup Failed', async () => {
    send('dns-4', 'sip:bob@broken.test');
    const r = await finalFor('dns-4');
    expect(r.status).toBe(503);
    expect(r.reason).toBe('Next Hop Lookup Failed');
  });

  it('prefer_tls: false keeps the NAPTR order (UDP first for biloxi.test)', async () => {
    const r = (preferTls?: boolean) => new DnsResolver3263({ servers: [dnsServer], timeoutMs: 100, tries: 1, ipv6: false, preferTls });
    const order = async (preferTls?: boolean) => (await r(preferTls).resolve(routeUri('sip:bob@biloxi.test'))).map((t) => `${t.transport} ${t.port}`);
    expect(await order(false)).toEqual([`udp ${biloxiUdp.port}`, `tls ${biloxi.port}`]);
    expect(await order()).toEqual([`tls ${biloxi.port}`, `udp ${biloxiUdp.port}`]);
  });

  it('with servers configured, a name they do not know comes from the hosts file (lab.test is only in the test file)', async () => {
    const hosts = dir.write('hosts', '# lab\n127.0.0.7 lab.test lab  # the lab box\n::1\tLAB.test\n10.0.0.1 other.test # lab.test\n');
    const r = (ipv6: boolean) => new DnsResolver3263({ servers: [dnsServer], hostsFile: hosts, timeoutMs: 100, tries: 1, ipv6 });
    expect(await r(false).resolve(routeUri('sip:bob@lab.test'))).toEqual([{ transport: 'udp', host: '127.0.0.7', port: 5060, expectedDomain: 'lab.test' }]);
    expect((await r(true).resolve(routeUri('sips:bob@lab.test'))).map((t) => `${t.transport} ${t.host}:${t.port}`)).toEqual(['tls 127.0.0.7:5061', 'tls ::1:5061']);
    const miss = await r(true).resolve(routeUri('sip:bob@nowhere.test')).catch((e: unknown) => e);
    expect(miss).toBeInstanceOf(NextHopError);
    expect(miss).toMatchObject({ status: 404 });
  });
});

describe('config: proxy.dns', () => {
  const base = { listen: [{ transport: 'udp', port: 5060 }], policy: { path: 'p' } };
  it('accepts servers as IP[:port] or [IPv6][:port] with timeout_ms, tries, prefer_tls, ipv6', () => {
    const dnsCfg = { servers: ['127.0.0.1:5353', '10.0.0.53', '[::1]:53', '::1', '[fe80::1]'], timeout_ms: 500, tries: 3, prefer_tls: false, ipv6: false };
    expect(validateConfig({ ...base, proxy: { dns: dnsCfg } })).toEqual([]);
  });

  it('names the path of each bad entry', () => {
    const problems = validateConfig({ ...base, proxy: { dns: { servers: [], timeout_ms: 0, retries: 2 } } });
    expect(problems).toEqual(
      expect.arrayContaining(['/proxy/dns/servers: must NOT have fewer than 1 items', '/proxy/dns/timeout_ms: must be >= 1', '/proxy/dns: unknown property "retries"']),
    );
    expect(validateConfig({ ...base, proxy: { dns: { servers: ['127.0.0.1:5353', 'dns.example', '127.0.0.1:70000', '1.2.3', '[127.0.0.1]:53'] } } })).toEqual([
      '/proxy/dns/servers/1: "dns.example" is not an IP address with an optional port (e.g. 127.0.0.1:5353, 10.0.0.53, [::1]:53)',
      '/proxy/dns/servers/2: "127.0.0.1:70000" is not an IP address with an optional port (e.g. 127.0.0.1:5353, 10.0.0.53, [::1]:53)',
      '/proxy/dns/servers/3: "1.2.3" is not an IP address with an optional port (e.g. 127.0.0.1:5353, 10.0.0.53, [::1]:53)',
      '/proxy/dns/servers/4: "[127.0.0.1]:53" is not an IP address with an optional port (e.g. 127.0.0.1:5353, 10.0.0.53, [::1]:53)',
    ]);
  });
});
