// The proxy core over real sockets: two federations' TLS peers (Node TLS endpoints with real
// certificates), the gateway in between with the example policy compiled by our compiler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import * as net from 'node:net';
import pino from 'pino';
import { Gateway } from './gateway.js';
import { makePki, topologyConfig, writeTestPolicy, type TestPki } from './testing/topology.js';
import { TlsPeerServer, UdpPeer, answer, isReq, isResp, sip, tlsClient, StreamPeer } from './testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';

const ready = await compilerReady();

describe.skipIf(!ready)('gateway: a call across two federations over mTLS', () => {
  let pki: TestPki;
  let gw: Gateway;
  let biloxi: TlsPeerServer; // the callee's proxy (federation B), a TLS server
  let atlantaSrv: TlsPeerServer; // the caller's proxy as a TLS server (for requests coming back)
  let atlanta: StreamPeer; // the caller's proxy as a TLS client of the gateway
  let portA = 0;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    pki = await makePki();
    biloxi = new TlsPeerServer({ ...pki.text.biloxi, ca: pki.text.fedBCa });
    atlantaSrv = new TlsPeerServer({ ...pki.text.atlanta, ca: pki.text.fedACa });
    await biloxi.listen();
    await atlantaSrv.listen();
    const policyDir = writeTestPolicy(join(pki.dir.path, 'policy'), { host: '127.0.0.1', port: biloxi.port });
    const loaded = topologyConfig(pki, policyDir, { fedA: [`127.0.0.1:${atlantaSrv.port}`], fedB: [`127.0.0.1:${biloxi.port}`] });
    const logger = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    gw = await Gateway.start(loaded, { logger });
    expect(gw.policy.info).toBeDefined();
    portA = gw.listener('tls', 'fedA').port;
    atlanta = await tlsClient(portA, pki.text.atlanta, pki.text.fedACa);
  });

  afterAll(async () => {
    atlanta?.socket.destroy();
    await gw?.stop();
    await biloxi?.close();
    await atlantaSrv?.close();
    pki?.dir.remove();
  });

  const invite = (callId: string, from = 'alice@atlanta.example', extra: string[] = []) =>
    sip([
      'INVITE sip:bob@biloxi.example SIP/2.0',
      'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-' + callId,
      'Max-Forwards: 70',
      `From: "Alice" <sip:${from}>;tag=a-${callId}`,
      'To: <sip:bob@biloxi.example>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${atlantaSrv.port};transport=tls>`,
      'Alert-Info: <http://evil.example/forged.wav>',
      ...extra,
    ]);

  it('completes INVITE/100/180/200/ACK, tags the INVITE, and the callee BYE crosses back with the fedA client certificate', async () => {
    const callId = 'call-1';
    atlanta.send(invite(callId));
    await atlanta.inbox.wait((m) => isResp(100)(m) && m.callId === callId, '100 Trying');

    // biloxi receives the INVITE over TLS, presented with the gateway's federation B certificate
    const inv = await biloxi.inbox.wait((m) => isReq('INVITE')(m) && m.callId === callId, 'INVITE at biloxi');
    expect(biloxi.clientSubjects).toContain('CN=gw.bastion.example,O=FedB');
    // S5: the forged Alert-Info is gone, the policy's tag is there
    expect(inv.getAll('alert-info')).toEqual(['<http://ring.example/trusted.wav>']);
    expect(inv.maxForwards).toBe(69);
    // double Record-Route (the legs use different listeners/certificates), top one faces biloxi
    const rr = inv.getAll('record-route');
    expect(rr).toHaveLength(2);
    expect(rr[0]).toContain(`:${gw.listener('tls', 'fedB').port};transport=tls;lr`);
    expect(rr[1]).toContain(`:${portA};transport=tls;lr`);
    expect(inv.via).toHaveLength(2);
    expect(inv.via[0]!.transport).toBe('TLS');

    const peer = biloxi.peerOf(inv);
    peer.send(answer(inv, 180, 'Ringing', { toTag: 'b1' }));
    peer.send(answer(inv, 200, 'OK', { toTag: 'b1', contact: `<sip:bob@127.0.0.1:${biloxi.port};transport=tls>` }));
    await atlanta.inbox.wait((m) => isResp(180)(m) && m.callId === callId, '180');
    const ok = await atlanta.inbox.wait((m) => isResp(200, 'INVITE')(m) && m.callId === callId, '200');
    expect(ok.via).toHaveLength(1); // our Via was removed
    expect(ok.getAll('record-route')).toEqual(rr);

    // ACK by the route set (reversed Record-Route), end to end
    atlanta.send(
      sip([
        `ACK sip:bob@127.0.0.1:${biloxi.port};transport=tls SIP/2.0`,
        'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-ack-' + callId,
        `Route: ${rr[1]}, ${rr[0]}`,
        'Max-Forwards: 70',
        `From: "Alice" <sip:alice@atlanta.example>;tag=a-${callId}`,
        'To: <sip:bob@biloxi.example>;tag=b1',
        `Call-ID: ${callId}`,
        'CSeq: 1 ACK',
      ]),
    );
    const ack = await biloxi.inbox.wait((m) => isReq('ACK')(m) && m.callId === callId, 'ACK at biloxi');
    expect(ack.route).toHaveLength(0);
    expect(biloxi.peerOf(ack)).toBe(peer); // the same pooled connection

    // the callee hangs up: the BYE goes back through the gateway to atlanta's TLS server
    peer.send(
      sip([
        `BYE sip:alice@127.0.0.1:${atlantaSrv.port};transport=tls SIP/2.0`,
        'Via: SIP/2.0/TLS 127.0.0.1:6999;branch=z9hG4bK-bye-' + callId,
        `Route: ${rr[0]}, ${rr[1]}`,
        'Max-Forwards: 70',
        'From: <sip:bob@biloxi.example>;tag=b1',
        `To: "Alice" <sip:alice@atlanta.example>;tag=a-${callId}`,
        `Call-ID: ${callId}`,
        'CSeq: 1 BYE',
      ]),
    );
    const bye = await atlantaSrv.inbox.wait((m) => isReq('BYE')(m) && m.callId === callId, 'BYE at atlanta');
    expect(atlantaSrv.clientSubjects).toEqual(['CN=gw.bastion.example,O=FedA']);
    atlantaSrv.peerOf(bye).send(answer(bye, 200, 'OK'));
    const byeOk = await peer.inbox.wait((m) => isResp(200, 'BYE')(m) && m.callId === callId, '200 for BYE at biloxi');
    expect(byeOk.via).toHaveLength(1);

    // one decision log line per message, with the peer's subject and issuer
    const decisions = logLines.filter((l) => l.msg === 'decision' && l.call_id === callId);
    const methods = decisions.map((l) => `${l.method}${l.status ? ' ' + l.status : ''}`);
    expect(methods).toEqual(['INVITE', 'INVITE 180', 'INVITE 200', 'ACK', 'BYE', 'BYE 200']);
    const first = decisions[0] as { peer: { subject: string; issuer: string; verified: boolean }; local_domain: string; revision: string };
    expect(first.peer).toMatchObject({ subject: 'CN=sip.atlanta.example,O=FedA', issuer: 'CN=Federation A Root,O=FedA', verified: true });
    expect(first.local_domain).toBe('fedA');
    expect(first.revision).toMatch(/^sha256:/);
  });

  it('RFC 3261 §16.6 step 4: a SIPS Request-URI gets SIPS Record-Route on both legs, and the SIPS Route set comes back through both', async () => {
    const callId = 'call-sips';
    atlanta.send(
      sip([
        'INVITE sips:bob@biloxi.example SIP/2.0',
        'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-' + callId,
        `Route: <sips:127.0.0.1:${portA};lr>`,
        'Max-Forwards: 70',
        `From: "Alice" <sips:alice@atlanta.example>;tag=a-${callId}`,
        'To: <sips:bob@biloxi.example>',
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sips:alice@127.0.0.1:${atlantaSrv.port}>`,
      ]),
    );
    const inv = await biloxi.inbox.wait((m) => isReq('INVITE')(m) && m.callId === callId, 'INVITE at biloxi');
    const portB = gw.listener('tls', 'fedB').port;
    // the leg towards biloxi (fedB listener) on top, the leg towards atlanta below: both SIPS
    const rr = [`<sips:127.0.0.1:${portB};lr>`, `<sips:127.0.0.1:${portA};lr>`];
    expect(inv.getAll('record-route')).toEqual(rr);
    expect(inv.route).toHaveLength(0); // our own SIPS Route entry was recognised and removed
    const peer = biloxi.peerOf(inv);
    peer.send(answer(inv, 200, 'OK', { toTag: 'b-sips', contact: `<sips:bob@127.0.0.1:${biloxi.port}>` }));
    const ok = await atlanta.inbox.wait((m) => isResp(200, 'INVITE')(m) && m.callId === callId, '200');
    expect(ok.getAll('record-route')).toEqual(rr);

    // the callee's BYE by its route set (Record-Route in order): the gateway consumes both entries
    peer.send(
      sip([
        `BYE sips:alice@127.0.0.1:${atlantaSrv.port} SIP/2.0`,
        'Via: SIP/2.0/TLS 127.0.0.1:6999;branch=z9hG4bK-bye-' + callId,
        `Route: ${rr[0]}, ${rr[1]}`,
        'Max-Forwards: 70',
        'From: <sips:bob@biloxi.example>;tag=b-sips',
        `To: "Alice" <sips:alice@atlanta.example>;tag=a-${callId}`,
        `Call-ID: ${callId}`,
        'CSeq: 1 BYE',
      ]),
    );
    const bye = await atlantaSrv.inbox.wait((m) => isReq('BYE')(m) && m.callId === callId, 'BYE at atlanta');
    expect(bye.route).toHaveLength(0);
    expect(bye.requestUri).toBe(`sips:alice@127.0.0.1:${atlantaSrv.port}`);
    atlantaSrv.peerOf(bye).send(answer(bye, 200, 'OK'));
    await peer.inbox.wait((m) => isResp(200, 'BYE')(m) && m.callId === callId, '200 for BYE at biloxi');
  });

  it('RFC 3261 §16.6 step 4: a SIPS top Route (after our own) makes the Record-Route SIPS too, for a sip: Request-URI', async () => {
    const callId = 'call-sips-route';
    atlanta.send(
      sip([
        'INVITE sip:carol@chicago.example SIP/2.0', // no next hop in the policy: the Route set decides
        'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-' + callId,
        `Route: <sip:127.0.0.1:${portA};transport=tls;lr>, <sips:127.0.0.1:${biloxi.port};lr>`,
        'Max-Forwards: 70',
        `From: "Alice" <sip:alice@atlanta.example>;tag=a-${callId}`,
        'To: <sip:carol@chicago.example>',
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:alice@127.0.0.1:${atlantaSrv.port};transport=tls>`,
      ]),
    );
    const inv = await biloxi.inbox.wait((m) => isReq('INVITE')(m) && m.callId === callId, 'INVITE at biloxi');
    expect(inv.getAll('route')).toEqual([`<sips:127.0.0.1:${biloxi.port};lr>`]);
    expect(inv.getAll('record-route')).toEqual([`<sips:127.0.0.1:${gw.listener('tls', 'fedB').port};lr>`, `<sips:127.0.0.1:${portA};lr>`]);
    biloxi.peerOf(inv).send(answer(inv, 486, 'Busy Here', { toTag: 'c-1' }));
    await atlanta.inbox.wait((m) => isResp(486)(m) && m.callId === callId, '486');
  });

  it('S7: a From the certificate does not cover is rejected with 403 and never forwarded', async () => {
    atlanta.send(invite('call-s7', 'mallory@chicago.example'));
    const r = await atlanta.inbox.wait((m) => m.kind === 'response' && m.status >= 300 && m.callId === 'call-s7', 'final response');
    expect(r.status).toBe(403);
    expect(r.reason).toBe('From Not Covered By Certificate');
    expect(biloxi.inbox.messages.some((m) => m.callId === 'call-s7')).toBe(false);
  });

  it('CANCEL: answered 200, sent downstream, the 487 comes back and its ACK stays hop by hop', async () => {
    const callId = 'call-cancel';
    const inv0 = invite(callId);
    atlanta.send(inv0);
    const inv = await biloxi.inbox.wait((m) => isReq('INVITE')(m) && m.callId === callId, 'INVITE at biloxi');
    const peer = biloxi.peerOf(inv);
    peer.send(answer(inv, 180, 'Ringing', { toTag: 'c1' }));
    await atlanta.inbox.wait((m) => isResp(180)(m) && m.callId === callId, '180');
    atlanta.send(
      sip([
        'CANCEL sip:bob@biloxi.example SIP/2.0',
        'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-' + callId,
        'Max-Forwards: 70',
        `From: "Alice" <sip:alice@atlanta.example>;tag=a-${callId}`,
        'To: <sip:bob@biloxi.example>',
        `Call-ID: ${callId}`,
        'CSeq: 1 CANCEL',
      ]),
    );
    await atlanta.inbox.wait((m) => isResp(200, 'CANCEL')(m) && m.callId === callId, '200 for CANCEL');
    const cancel = await biloxi.inbox.wait((m) => isReq('CANCEL')(m) && m.callId === callId, 'CANCEL at biloxi');
    expect(cancel.topVia?.branch).toBe(inv.topVia?.branch);
    peer.send(answer(cancel, 200, 'OK'));
    peer.send(answer(inv, 487, 'Request Terminated', { toTag: 'c1' }));
    await atlanta.inbox.wait((m) => isResp(487)(m) && m.callId === callId, '487');
    // the gateway's client transaction ACKs the 487 itself
    const ack = await biloxi.inbox.wait((m) => isReq('ACK')(m) && m.callId === callId, 'hop-by-hop ACK');
    expect(ack.topVia?.branch).toBe(inv.topVia?.branch);
  });

  it('a peer from an unknown CA is refused at the handshake', async () => {
    const refused = await tlsClient(portA, pki.text.rogue, pki.text.fedACa).then(
      async (p) => {
        // TLS 1.3: the client may finish before the server refuses; the server then closes
        p.send(invite('call-rogue'));
        await p.closed;
        return p.inbox.messages.length === 0;
      },
      () => true,
    );
    expect(refused).toBe(true);
    expect(biloxi.inbox.messages.some((m) => m.callId === 'call-rogue')).toBe(false);
  });

  it('answers an OPTIONS addressed to itself over UDP', async () => {
    const u = new UdpPeer();
    await u.bind();
    const port = gw.listener('udp').port;
    u.send(
      [
        `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${u.port};branch=z9hG4bK-opt1`,
        'Max-Forwards: 70',
        'From: <sip:ops@atlanta.example>;tag=o1',
        `To: <sip:127.0.0.1:${port}>`,
        'Call-ID: opt-1',
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      port,
    );
    const r = await u.inbox.wait(isResp(200, 'OPTIONS'), '200 OK');
    expect(r.get('allow')).toContain('INVITE');
    u.close();
  });

  describe('bad input never reaches the policy and the gateway goes on', () => {
    const decisionsFor = (callId: string) => logLines.filter((l) => l.msg === 'decision' && l.call_id === callId);

    it('malformed request → 400 with a reason, same connection keeps working', async () => {
      const c = await tlsClient(portA, pki.text.atlanta, pki.text.fedACa);
      c.send('INVITE sip:bob@biloxi.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK-bad1\r\nFrom: <sip:alice@atlanta.example>;tag=1\r\nTo: <sip:bob@biloxi.example>\r\nCall-ID: bad-1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n');
      const r = await c.inbox.wait((m) => m.kind === 'response' && m.callId === 'bad-1', '400');
      expect(r.status).toBe(400);
      expect(r.reason).toMatch(/CSeq/);
      expect(decisionsFor('bad-1')).toHaveLength(0);
      // the connection still carries good traffic: an S7 reject proves the policy ran
      c.send(invite('after-bad', 'eve@chicago.example'));
      const r2 = await c.inbox.wait((m) => m.kind === 'response' && m.status >= 300 && m.callId === 'after-bad', 'final');
      expect(r2.status).toBe(403);
      c.socket.destroy();
    });

    it('oversized message → 513 or a closed connection, logged', async () => {
      const c = await tlsClient(portA, pki.text.atlanta, pki.text.fedACa);
      c.send(`OPTIONS sip:x@biloxi.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK-big\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
      await c.closed;
      expect(logLines.some((l) => l.msg === 'sip: bad input refused' && l.status === 513)).toBe(true);
    });

    it('Content-Length lie → connection closed; header flood → 400 logged and connection closed', async () => {
      const c = await tlsClient(portA, pki.text.atlanta, pki.text.fedACa);
      c.send('OPTIONS sip:x@biloxi.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK-cl\r\nContent-Length: -5\r\n\r\n');
      await c.closed;
      const flood = Array.from({ length: 300 }, (_, i) => `X-H${i}: v`);
      const d = await tlsClient(portA, pki.text.atlanta, pki.text.fedACa);
      d.send(
        ['OPTIONS sip:x@biloxi.example SIP/2.0', 'Via: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK-flood', 'From: <sip:a@atlanta.example>;tag=1', 'To: <sip:x@biloxi.example>', 'Call-ID: flood-1', 'CSeq: 1 OPTIONS', ...flood, 'Content-Length: 0', '', ''].join('\r\n'),
      );
      // too many fields to even read a Via: refused with a log line and the connection closed
      await d.closed;
      expect(d.inbox.messages).toHaveLength(0);
      expect(logLines.some((l) => l.msg === 'sip: bad input refused' && l.status === 400 && /Header/i.test(String(l.reason)))).toBe(true);
      expect(decisionsFor('flood-1')).toHaveLength(0);
    });

    it('slowloris: an incomplete message is cut off by the partial-message timeout', async () => {
      const tcpPort = gw.listener('tcp').port;
      const s = net.connect(tcpPort, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write('OPTIONS sip:x@biloxi.example SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-slow\r\n');
      s.on('error', () => {});
      await new Promise((r) => s.once('close', r));
      expect(logLines.some((l) => typeof l.msg === 'string' && (l.msg as string).includes('slowloris'))).toBe(true);
    });

    it('an unknown method from an untrusted UDP peer is answered 405 before the policy', async () => {
      const u = new UdpPeer();
      await u.bind();
      const port = gw.listener('udp').port;
      u.send(
        [`FOOBAR sip:bob@nowhere.example SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${u.port};branch=z9hG4bK-foo`, 'Max-Forwards: 70', 'From: <sip:x@nowhere.example>;tag=f', 'To: <sip:bob@nowhere.example>', 'Call-ID: foo-1', 'CSeq: 1 FOOBAR', 'Content-Length: 0', '', ''].join('\r\n'),
        port,
      );
      const r = await u.inbox.wait((m) => m.callId === 'foo-1', 'answer');
      expect(r.status).toBe(405);
      expect(r.get('allow')).toContain('INVITE');
      expect(r.get('allow')).not.toContain('FOOBAR');
      expect(decisionsFor('foo-1')).toHaveLength(0);
      u.close();
    });
  });
});
