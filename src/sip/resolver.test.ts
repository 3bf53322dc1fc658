// RFC 3263 resolution against a real dnsmasq on 127.0.0.1 (Debian package dnsmasq; .ci/run installs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { SipResolver, orderSrv, ResolveError } from './resolver.js';
import { DNSMASQ, freeUdpPort, startDnsmasq } from './testing/dnsmasq.js';

if (!DNSMASQ) console.warn('resolver.test: dnsmasq is not installed (apt-get install -y dnsmasq); skipping the RFC 3263 tests');

const RECORDS = [
  // atlanta.test: NAPTR prefers UDP by order, but TLS is preferred by the client; two TLS servers by priority
  '--naptr-record=atlanta.test,10,50,s,SIP+D2U,,_sip._udp.atlanta.test',
  '--naptr-record=atlanta.test,20,50,s,SIPS+D2T,,_sips._tcp.atlanta.test',
  '--srv-host=_sips._tcp.atlanta.test,sbc2.atlanta.test,5062,20,10',
  '--srv-host=_sips._tcp.atlanta.test,sbc1.atlanta.test,5061,10,10',
  '--srv-host=_sip._udp.atlanta.test,sbc1.atlanta.test,5060,10,10',
  '--host-record=sbc1.atlanta.test,127.0.0.11,::1',
  '--host-record=sbc2.atlanta.test,127.0.0.12',
  '--host-record=atlanta.test,127.0.0.20',
  // biloxi.test: no NAPTR; SRV for TLS and TCP
  '--srv-host=_sip._tcp.biloxi.test,tcp.biloxi.test,5060,10,10',
  '--srv-host=_sips._tcp.biloxi.test,tls.biloxi.test,5061,10,10',
  '--host-record=tcp.biloxi.test,127.0.0.31',
  '--host-record=tls.biloxi.test,127.0.0.32',
  // chicago.test: A record only
  '--host-record=chicago.test,127.0.0.40',
];

describe.skipIf(!DNSMASQ)('SipResolver (RFC 3263) against dnsmasq', () => {
  let proc: ChildProcess;
  let server: string;
  const mk = (o: ConstructorParameters<typeof SipResolver>[0] = {}): SipResolver => new SipResolver({ servers: [server], timeoutMs: 1000, tries: 1, families: [4], random: () => 0.5, ...o });

  beforeAll(async () => {
    ({ proc, server } = await startDnsmasq(RECORDS, 'chicago.test'));
  });

  afterAll(() => {
    proc?.kill('SIGTERM');
  });

  it('follows NAPTR -> SRV -> A, TLS first, SRV by priority', async () => {
    const t = await mk().resolve('sip:alice@atlanta.test');
    expect(t.map((x) => `${x.transport} ${x.address}:${x.port} ${x.source}`)).toEqual([
      'tls 127.0.0.11:5061 naptr',
      'tls 127.0.0.12:5062 naptr',
      'udp 127.0.0.11:5060 naptr',
    ]);
    expect(t[0]!.domain).toBe('atlanta.test');
    expect(t[0]!.host).toBe('sbc1.atlanta.test');
  });

  it('keeps the NAPTR order when TLS is not preferred, and looks up AAAA too', async () => {
    const t = await mk({ preferTls: false, families: [4, 6] }).resolve('sip:atlanta.test');
    expect(t.map((x) => `${x.transport} ${x.address}`)).toEqual(['udp 127.0.0.11', 'udp ::1', 'tls 127.0.0.11', 'tls ::1', 'tls 127.0.0.12']);
  });

  it('sips: means TLS only', async () => {
    const t = await mk().resolve('sips:atlanta.test');
    expect(new Set(t.map((x) => x.transport))).toEqual(new Set(['tls']));
    expect(t).toHaveLength(2);
  });

  it('without NAPTR queries SRV _sips._tcp, _sip._tcp, _sip._udp in that order', async () => {
    const t = await mk().resolve('sip:bob@biloxi.test');
    expect(t.map((x) => `${x.transport} ${x.address}:${x.port} ${x.source}`)).toEqual(['tls 127.0.0.32:5061 srv', 'tcp 127.0.0.31:5060 srv']);
    const tlsOnly = await mk({ transports: ['tls'] }).resolve('sip:bob@biloxi.test');
    expect(tlsOnly.map((x) => x.transport)).toEqual(['tls']);
  });

  it('falls back to A records with the default transport and port', async () => {
    expect(await mk().resolve('sip:chicago.test')).toEqual([
      { transport: 'udp', address: '127.0.0.40', port: 5060, family: 4, host: 'chicago.test', domain: 'chicago.test', source: 'a' },
    ]);
    expect((await mk().resolve('sips:chicago.test'))[0]).toMatchObject({ transport: 'tls', port: 5061 });
    expect((await mk({ defaultTransport: 'tls' }).resolve('sip:chicago.test'))[0]).toMatchObject({ transport: 'tls', port: 5061 });
  });

  it('honours an explicit port (A/AAAA only) and an explicit transport (SRV for it)', async () => {
    expect(await mk().resolve('sip:atlanta.test:5070')).toMatchObject([{ transport: 'udp', address: '127.0.0.20', port: 5070, source: 'a' }]);
    expect(await mk().resolve('sip:atlanta.test:5070;transport=tls')).toMatchObject([{ transport: 'tls', port: 5070 }]);
    expect(await mk().resolve('sip:biloxi.test;transport=tcp')).toMatchObject([{ transport: 'tcp', address: '127.0.0.31', port: 5060, source: 'srv' }]);
    expect(await mk().resolve('sips:biloxi.test;transport=tcp')).toMatchObject([{ transport: 'tls', address: '127.0.0.32' }]);
  });

  it('uses maddr as the host and keeps the URI host as the TLS domain', async () => {
    expect(await mk().resolve('sip:x@atlanta.test;maddr=127.0.0.99')).toMatchObject([{ address: '127.0.0.99', port: 5060, domain: 'atlanta.test', source: 'numeric' }]);
  });

  it('does not query DNS for numeric hosts', async () => {
    const r = new SipResolver({ servers: ['127.0.0.1:1'], timeoutMs: 100, tries: 1 });
    expect(await r.resolve('sip:127.0.0.1:5080;transport=tcp')).toMatchObject([{ transport: 'tcp', address: '127.0.0.1', port: 5080, family: 4 }]);
    expect(await r.resolve('sips:[::1]')).toMatchObject([{ transport: 'tls', address: '::1', port: 5061, family: 6 }]);
  });

  it('returns nothing for unknown names', async () => {
    expect(await mk().resolve('sip:nowhere.test')).toEqual([]);
  });

  it('throws ResolveError when the DNS server does not answer', async () => {
    const port = await freeUdpPort();
    const r = new SipResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 100, tries: 1 });
    await expect(r.resolve('sip:nowhere.test')).rejects.toBeInstanceOf(ResolveError);
  });
});

describe('orderSrv (RFC 2782)', () => {
  const recs = [
    { name: 'c', port: 1, priority: 20, weight: 0 },
    { name: 'a', port: 1, priority: 10, weight: 60 },
    { name: 'b', port: 1, priority: 10, weight: 40 },
  ];
  it('orders by priority, then by weighted choice', () => {
    expect(orderSrv(recs, () => 0.1).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(orderSrv(recs, () => 0.9).map((r) => r.name)).toEqual(['b', 'a', 'c']);
  });
  it('spreads selections in proportion to the weights', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    let a = 0;
    for (let i = 0; i < 2000; i++) if (orderSrv(recs, rnd)[0]!.name === 'a') a++;
    expect(a / 2000).toBeGreaterThan(0.5);
    expect(a / 2000).toBeLessThan(0.7);
  });
});
