// Topology hiding towards federation B (`topology_hiding: true` on its server and client domain):
// real TLS peers on both sides, calls in both directions. biloxi must see none of atlanta's side
// (atlanta's proxy, its UA's Contact, its Vias, the gateway's fedA listener) in Via, Record-Route
// or Contact, and the dialogs must still route both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { Gateway } from './gateway.js';
import { makePki, topologyConfig, writeTestPolicy, type TestPki } from './testing/topology.js';
import { TlsPeerServer, answer, isReq, isResp, sip, tlsClient, type StreamPeer } from './testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';
import { TopologyHiding } from './topology-hiding.js';
import type { SipMessage } from '../sip/message.js';

const ready = await compilerReady();

describe('topology-hiding tokens', () => {
  const th = new TopologyHiding({ serverDomains: [], clientDomains: [], isOwn: () => true, secret: Buffer.alloc(32, 7) });
  it('round-trip, bound to their kind, and refuse anything altered or foreign', () => {
    const routes = ['<sip:10.0.0.1:5061;transport=tls;lr>', '<sip:proxy.atlanta.example;lr>'];
    const t = th.encode('R', routes);
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/); // a URI parameter value as it is
    expect(th.decode(t, 'R')).toEqual(routes);
    expect(th.decode(t, 'C')).toBeNull();
    expect(th.decode(th.encode('R', []), 'R')).toEqual([]);
    const flipped = (t[5] === 'A' ? 'B' : 'A');
    expect(th.decode(t.slice(0, 5) + flipped + t.slice(6), 'R')).toBeNull();
    const other = new TopologyHiding({ serverDomains: [], clientDomains: [], isOwn: () => true, secret: Buffer.alloc(32, 8) });
    expect(other.decode(t, 'R')).toBeNull();
    // the same secret decodes (a restarted gateway, or another one sharing the key file)
    const same = new TopologyHiding({ serverDomains: [], clientDomains: [], isOwn: () => true, secret: Buffer.alloc(32, 7) });
    expect(same.decode(t, 'R')).toEqual(routes);
    expect(th.decode('not-a-token', 'R')).toBeNull();
  });
});

describe.skipIf(!ready)('topology hiding towards federation B', () => {
  let pki: TestPki;
  let gw: Gateway;
  let biloxi: TlsPeerServer; // biloxi's proxy, reached by the gateway as a TLS client (fedB)
  let atlantaSrv: TlsPeerServer; // atlanta's proxy as a TLS server (requests towards atlanta)
  let atlanta: StreamPeer; // atlanta's proxy as a client of the gateway (fedA)
  let portA = 0;
  let portB = 0;

  beforeAll(async () => {
    pki = await makePki();
    biloxi = new TlsPeerServer({ ...pki.text.biloxi, ca: pki.text.fedBCa });
    atlantaSrv = new TlsPeerServer({ ...pki.text.atlanta, ca: pki.text.fedACa });
    await biloxi.listen();
    await atlantaSrv.listen();
    const policyDir = writeTestPolicy(join(pki.dir.path, 'policy'), { host: '127.0.0.1', port: biloxi.port });
    const keyFile = join(pki.dir.path, 'th.key');
    writeFileSync(keyFile, Buffer.alloc(48, 1));
    const base = topologyConfig(pki, policyDir, { fedA: [`127.0.0.1:${atlantaSrv.port}`], fedB: [`127.0.0.1:${biloxi.port}`] });
    const cfg = base.config;
    cfg.server_domains!.fedB!.topology_hiding = true;
    cfg.client_domains!.fedB!.topology_hiding = true;
    cfg.proxy = { ...cfg.proxy, topology_hiding_key_file: keyFile };
    gw = await Gateway.start(base, { logger: pino({ level: 'warn' }) });
    portA = gw.listener('tls', 'fedA').port;
    portB = gw.listener('tls', 'fedB').port;
    atlanta = await tlsClient(portA, pki.text.atlanta, pki.text.fedACa);
  }, 300_000); // the policy compiles at start: slow on a busy machine

  afterAll(async () => {
    atlanta?.socket.destroy();
    await gw?.stop();
    await biloxi?.close();
    await atlantaSrv?.close();
    pki?.dir.remove();
  });

  /** atlanta's side as biloxi must not see it: its proxy and UA ports, its Via, the gateway's fedA listener */
  const atlantaSide = () => [':5999', ':5998', `:${atlantaSrv.port}`, `:${portA}`];
  function seesNothingOfAtlanta(m: SipMessage): void {
    const shown = [...m.getAll('via'), ...m.getAll('record-route'), ...m.getAll('contact')].join('\n');
    for (const a of atlantaSide()) expect(shown, `${a} in\n${shown}`).not.toContain(a);
  }
  const contactOf = (m: SipMessage) => m.getAll('contact')[0]!.replace(/^.*<|>.*$/g, '');

  it('atlanta calls biloxi: biloxi sees only the gateway; the call completes and biloxi hangs up', async () => {
    const callId = 'th-1';
    const aProxyRR = `<sip:127.0.0.1:${atlantaSrv.port};transport=tls;lr>`;
    atlanta.send(
      sip([
        'INVITE sip:bob@biloxi.example SIP/2.0',
        `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${callId}`,
        'Via: SIP/2.0/UDP 127.0.0.1:5998;branch=z9hG4bK-ua-' + callId,
        'Max-Forwards: 70',
        `Record-Route: ${aProxyRR}`,
        `From: "Alice" <sip:alice@atlanta.example>;tag=a-${callId}`,
        'To: <sip:bob@biloxi.example>',
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        'Contact: <sip:alice@127.0.0.1:5998>;expires=60',
      ]),
    );
    const inv = await biloxi.inbox.wait((m) => isReq('INVITE')(m) && m.callId === callId, 'INVITE at biloxi');
    seesNothingOfAtlanta(inv);
    expect(inv.via).toHaveLength(1);
    const rr = inv.getAll('record-route');
    expect(rr).toHaveLength(1);
    expect(rr[0]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${portB};transport=tls;lr;bth=[A-Za-z0-9_-]+>$`));
    expect(contactOf(inv)).toMatch(new RegExp(`^sip:127\\.0\\.0\\.1:${portB};transport=tls;bth=`));
    expect(inv.getAll('contact')[0]).toMatch(/;expires=60$/); // header parameters kept

    // biloxi's proxy record-routes too and answers; atlanta gets the full route set and its own Vias
    const peer = biloxi.peerOf(inv);
    const bRR = `<sip:127.0.0.1:${biloxi.port};transport=tls;lr>`;
    const ok = sip([
      'SIP/2.0 200 OK',
      ...inv.getAll('via').map((v) => `Via: ${v}`),
      `Record-Route: ${bRR}`,
      ...rr.map((v) => `Record-Route: ${v}`),
      `From: ${inv.get('from')}`,
      `To: ${inv.get('to')};tag=b-${callId}`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:bob@127.0.0.1:${biloxi.port};transport=tls>`,
    ]);
    peer.send(ok);
    const okA = await atlanta.inbox.wait((m) => isResp(200, 'INVITE')(m) && m.callId === callId, '200 at atlanta');
    expect(okA.getAll('via')).toEqual([`SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${callId}`, `SIP/2.0/UDP 127.0.0.1:5998;branch=z9hG4bK-ua-${callId}`]);
    expect(okA.getAll('record-route')).toEqual([bRR, `<sip:127.0.0.1:${portB};transport=tls;lr>`, `<sip:127.0.0.1:${portA};transport=tls;lr>`, aProxyRR]);
    expect(contactOf(okA)).toBe(`sip:bob@127.0.0.1:${biloxi.port};transport=tls`);

    // ACK from atlanta by its route set: biloxi gets it with one Via
    atlanta.send(
      sip([
        `ACK sip:bob@127.0.0.1:${biloxi.port};transport=tls SIP/2.0`,
        `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-ack-${callId}`,
        `Route: <sip:127.0.0.1:${portA};transport=tls;lr>, <sip:127.0.0.1:${portB};transport=tls;lr>, ${bRR}`,
        'Max-Forwards: 70',
        `From: "Alice" <sip:alice@atlanta.example>;tag=a-${callId}`,
        `To: <sip:bob@biloxi.example>;tag=b-${callId}`,
        `Call-ID: ${callId}`,
        'CSeq: 1 ACK',
      ]),
    );
    // (a new connection: the ACK's next hop is an address, the INVITE's was validated as biloxi.example)
    const ack = await biloxi.inbox.wait((m) => isReq('ACK')(m) && m.callId === callId, 'ACK at biloxi', 30_000);
    seesNothingOfAtlanta(ack);
    expect(ack.via).toHaveLength(1);

    // biloxi hangs up with what it was given: Route = its RR set, Request-URI = the Contact
    peer.send(
      sip([
        `BYE ${contactOf(inv)} SIP/2.0`,
        `Via: SIP/2.0/TLS 127.0.0.1:6999;branch=z9hG4bK-bye-${callId}`,
        `Route: ${rr[0]}`,
        'Max-Forwards: 70',
        `From: <sip:bob@biloxi.example>;tag=b-${callId}`,
        `To: "Alice" <sip:alice@atlanta.example>;tag=a-${callId}`,
        `Call-ID: ${callId}`,
        'CSeq: 1 BYE',
      ]),
    );
    // decoded: to atlanta's proxy (its Record-Route), for atlanta's UA (its Contact)
    const bye = await atlantaSrv.inbox.wait((m) => isReq('BYE')(m) && m.callId === callId, 'BYE at atlanta', 30_000);
    expect(bye.requestUri).toBe('sip:alice@127.0.0.1:5998');
    expect(bye.getAll('route')).toEqual([aProxyRR]);
    atlantaSrv.peerOf(bye).send(answer(bye, 200, 'OK'));
    const byeOk = await peer.inbox.wait((m) => isResp(200, 'BYE')(m) && m.callId === callId, '200 for BYE at biloxi');
    expect(byeOk.via).toHaveLength(1);
  });

  it('biloxi calls atlanta: the answer biloxi gets shows only the gateway; atlanta\'s BYE and biloxi\'s re-INVITE route back', async () => {
    const callId = 'th-2';
    const b = await tlsClient(portB, pki.text.biloxi, pki.text.fedBCa);
    try {
      b.send(
        sip([
          'INVITE sip:alice@atlanta.example SIP/2.0',
          `Via: SIP/2.0/TLS 127.0.0.1:6998;branch=z9hG4bK-${callId}`,
          'Max-Forwards: 70',
          `Route: <sip:127.0.0.1:${portB};transport=tls;lr>, <sip:127.0.0.1:${atlantaSrv.port};transport=tls;lr>`,
          `From: <sip:bob@biloxi.example>;tag=b-${callId}`,
          'To: <sip:alice@atlanta.example>',
          `Call-ID: ${callId}`,
          'CSeq: 1 INVITE',
          `Contact: <sip:bob@127.0.0.1:${biloxi.port};transport=tls>`,
        ]),
      );
      const inv = await atlantaSrv.inbox.wait((m) => isReq('INVITE')(m) && m.callId === callId, 'INVITE at atlanta', 30_000);
      // towards atlanta nothing is hidden: biloxi's Via and Contact are there
      expect(inv.via).toHaveLength(2);
      expect(contactOf(inv)).toBe(`sip:bob@127.0.0.1:${biloxi.port};transport=tls`);
      const rrA = inv.getAll('record-route');
      expect(rrA).toEqual([`<sip:127.0.0.1:${portA};transport=tls;lr>`, `<sip:127.0.0.1:${portB};transport=tls;lr>`]);
      // atlanta's proxy record-routes itself, its UA answers
      const aRR = `<sip:127.0.0.1:${atlantaSrv.port};transport=tls;lr;aproxy>`;
      const a = atlantaSrv.peerOf(inv);
      a.send(
        sip([
          'SIP/2.0 200 OK',
          ...inv.getAll('via').map((v) => `Via: ${v}`),
          `Record-Route: ${aRR}`,
          ...rrA.map((v) => `Record-Route: ${v}`),
          `From: ${inv.get('from')}`,
          `To: ${inv.get('to')};tag=a-${callId}`,
          `Call-ID: ${callId}`,
          'CSeq: 1 INVITE',
          'Contact: <sip:alice@127.0.0.1:5998>',
        ]),
      );
      const ok = await b.inbox.wait((m) => isResp(200, 'INVITE')(m) && m.callId === callId, '200 at biloxi');
      seesNothingOfAtlanta(ok);
      const rrB = ok.getAll('record-route');
      expect(rrB).toHaveLength(1);
      expect(rrB[0]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${portB};transport=tls;lr;bth=`));
      expect(ok.via).toHaveLength(1); // biloxi's own

      // biloxi (the UAC) sends in-dialog requests by the reversed set: the gateway, then the target
      const inDialog = (method: string, cseq: number, extra: string[] = []) =>
        sip([
          `${method} ${contactOf(ok)} SIP/2.0`,
          `Via: SIP/2.0/TLS 127.0.0.1:6998;branch=z9hG4bK-${method}-${callId}`,
          `Route: ${rrB[0]}`,
          'Max-Forwards: 70',
          `From: <sip:bob@biloxi.example>;tag=b-${callId}`,
          `To: <sip:alice@atlanta.example>;tag=a-${callId}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} ${method}`,
          ...extra,
        ]);
      b.send(inDialog('ACK', 1));
      const ack = await atlantaSrv.inbox.wait((m) => isReq('ACK')(m) && m.callId === callId, 'ACK at atlanta', 30_000);
      expect(ack.requestUri).toBe('sip:alice@127.0.0.1:5998');
      expect(ack.getAll('route')).toEqual([aRR]);

      // a re-INVITE from biloxi: its answer's new Contact is hidden again
      b.send(inDialog('INVITE', 2, [`Contact: <sip:bob@127.0.0.1:${biloxi.port};transport=tls>`]));
      const reinv = await atlantaSrv.inbox.wait((m) => isReq('INVITE')(m) && m.callId === callId && m.cseq.seq === 2, 're-INVITE at atlanta');
      expect(reinv.getAll('route')).toEqual([aRR]);
      a.send(
        sip([
          'SIP/2.0 200 OK',
          ...reinv.getAll('via').map((v) => `Via: ${v}`),
          `From: ${reinv.get('from')}`,
          `To: ${reinv.get('to')}`,
          `Call-ID: ${callId}`,
          'CSeq: 2 INVITE',
          'Contact: <sip:alice@127.0.0.1:5997>',
        ]),
      );
      const reok = await b.inbox.wait((m) => isResp(200, 'INVITE')(m) && m.callId === callId && m.cseq.seq === 2, '200 to the re-INVITE');
      seesNothingOfAtlanta(reok);
      expect(reok.getAll('contact')[0]).not.toContain(':5997');

      // atlanta hangs up towards biloxi (its Contact is biloxi's proxy): biloxi sees only the gateway's Via
      a.send(
        sip([
          `BYE sip:bob@127.0.0.1:${biloxi.port};transport=tls SIP/2.0`,
          `Via: SIP/2.0/TLS 127.0.0.1:5996;branch=z9hG4bK-abye-${callId}`,
          `Route: ${rrA[0]}, ${rrA[1]}`,
          'Max-Forwards: 70',
          `From: <sip:alice@atlanta.example>;tag=a-${callId}`,
          `To: <sip:bob@biloxi.example>;tag=b-${callId}`,
          `Call-ID: ${callId}`,
          'CSeq: 3 BYE',
        ]),
      );
      const bye = await biloxi.inbox.wait((m) => isReq('BYE')(m) && m.callId === callId, 'BYE at biloxi', 30_000);
      seesNothingOfAtlanta(bye);
      expect(bye.via).toHaveLength(1);
      biloxi.peerOf(bye).send(answer(bye, 200, 'OK'));
      const byeOk = await a.inbox.wait((m) => isResp(200, 'BYE')(m) && m.callId === callId, '200 for the BYE at atlanta', 30_000);
      expect(byeOk.getAll('via')).toEqual([`SIP/2.0/TLS 127.0.0.1:5996;branch=z9hG4bK-abye-${callId}`]);
    } finally {
      b.socket.destroy();
    }
  });

  it('a forged token is not decoded: the request is not routed anywhere by it', async () => {
    const b = await tlsClient(portB, pki.text.biloxi, pki.text.fedBCa);
    try {
      b.send(
        sip([
          `BYE sip:127.0.0.1:${portB};transport=tls;bth=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA SIP/2.0`,
          'Via: SIP/2.0/TLS 127.0.0.1:6998;branch=z9hG4bK-forged',
          'Max-Forwards: 70',
          'From: <sip:bob@biloxi.example>;tag=f1',
          'To: <sip:alice@atlanta.example>;tag=f2',
          'Call-ID: th-forged',
          'CSeq: 1 BYE',
        ]),
      );
      const r = await b.inbox.wait((m) => m.kind === 'response' && m.status >= 200 && m.callId === 'th-forged', 'answer', 30_000);
      expect(r.status).toBeGreaterThanOrEqual(400); // not decoded: addressed to the gateway itself
      expect(atlantaSrv.inbox.messages.some((m) => m.callId === 'th-forged')).toBe(false);
    } finally {
      b.socket.destroy();
    }
  });
});
