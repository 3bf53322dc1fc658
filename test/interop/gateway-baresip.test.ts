// Interop with a real user agent: two baresip instances (alice in federation A, bob in federation
// B), each with its own certificate, call each other through sip-bastion over mutual TLS, the
// gateway being each one's outbound proxy. The example policy decides every message (routing to
// each UA's TLS port, client certificate per destination, S7's From binding). Skipped (with a
// message) when baresip is not installed; .ci/run installs it. One gateway and the two UAs serve
// every test of the file; each test ends its calls.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { Baresip, baresipAvailable } from './baresip.js';
import { freePort, freePortRun } from './ports.js';
import { CertificateAuthority, type IssuedCertificate } from '../../src/tls/pki/index.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { parseConfig, type GatewayConfig } from '../../src/gateway/config.js';
import { writeTestPolicy } from '../../src/gateway/testing/topology.js';
import { isReq, isResp, sip, tlsClient } from '../../src/gateway/testing/peer.js';
import { compilerReady } from '../../src/policy/testing/compiler-ready.js';
import type { SipMessage } from '../../src/sip/message.js';

const haveBaresip = baresipAvailable();
if (!haveBaresip) console.warn('interop baresip: SKIPPED (baresip missing); install the Debian package baresip (see .ci/run)');
const ready = haveBaresip && (await compilerReady());

const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');

describe.skipIf(!ready)('interop: baresip alice (fedA) ⇄ sip-bastion ⇄ baresip bob (fedB) over mTLS', () => {
  let dir: string;
  let gw: Gateway;
  let alice: Baresip;
  let bob: Baresip;
  let portA = 0; // the gateway's fedA listener (alice's outbound proxy)
  let portB = 0; // the gateway's fedB listener (bob's)
  let aliceCert: IssuedCertificate;
  let fedACaPem = '';
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-baresip-'));
    const fedA = await CertificateAuthority.createRoot({ subject: 'CN=Federation A Root, O=FedA' });
    const fedB = await CertificateAuthority.createRoot({ subject: 'CN=Federation B Root, O=FedB' });
    fedACaPem = fedA.certPem;
    const pem = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text, { mode: 0o600 });
      return p;
    };
    // a domain certificate each (RFC 5922: SAN DNS and SIP URI of the domain)
    const leaf = (ca: CertificateAuthority, o: string, cn: string, domain: string) =>
      ca.issue({ subject: `CN=${cn}, O=${o}`, san: { dns: [cn, domain], uri: [`sip:${domain}`], ip: ['127.0.0.1'] }, usage: 'both' }); // peers on 127.0.0.1: IP next hops are checked against the IP SAN
    const gwA = await leaf(fedA, 'FedA', 'gw.bastion.example', 'bastion.example');
    const gwB = await leaf(fedB, 'FedB', 'gw.bastion.example', 'bastion.example');
    aliceCert = await leaf(fedA, 'FedA', 'ua.atlanta.example', 'atlanta.example');
    const bobCert = await leaf(fedB, 'FedB', 'ua.biloxi.example', 'biloxi.example');
    const files = {
      fedACa: pem('fedA-ca.pem', fedA.certPem),
      fedBCa: pem('fedB-ca.pem', fedB.certPem),
      gwA: { cert: pem('gw-fedA.pem', gwA.chainPem), key: pem('gw-fedA.key', gwA.keyPem) },
      gwB: { cert: pem('gw-fedB.pem', gwB.chainPem), key: pem('gw-fedB.key', gwB.keyPem) },
      alice: pem('alice.pem', aliceCert.chainPem + aliceCert.keyPem),
      bob: pem('bob.pem', bobCert.chainPem + bobCert.keyPem),
    };

    const aliceSip = await freePortRun(2); // baresip: UDP/TCP on P, TLS on P+1
    const bobSip = await freePortRun(2);
    const [aliceCtrl, bobCtrl, dnsPort] = [await freePort(), await freePort(), await freePort()];
    const [rtpA, rtpB] = [await freePortRun(4), await freePortRun(4)];

    // the example policy; next hops: each domain's UA at its TLS port
    const policyDir = writeTestPolicy(join(dir, 'policy'), { host: '127.0.0.1', port: bobSip + 1 });
    const dataFile = join(policyDir, 'data.yaml');
    const data = YAML.parse(readFileSync(dataFile, 'utf8')) as { config: { routing: { next_hops: Record<string, string> } } };
    data.config.routing.next_hops['atlanta.example'] = `sips:127.0.0.1:${aliceSip + 1}`;
    writeFileSync(dataFile, YAML.stringify(data));

    const cfg: GatewayConfig = {
      listen: [
        { transport: 'tls', address: '127.0.0.1', port: 0, server_domain: 'fedA' },
        { transport: 'tls', address: '127.0.0.1', port: 0, server_domain: 'fedB' },
      ],
      server_domains: {
        fedA: { cert: files.gwA.cert, key: files.gwA.key, ca: [files.fedACa], verify: true, require: true },
        fedB: { cert: files.gwB.cert, key: files.gwB.key, ca: [files.fedBCa], verify: true, require: true },
      },
      client_domains: {
        fedA: { cert: files.gwA.cert, key: files.gwA.key, ca: [files.fedACa] },
        fedB: { cert: files.gwB.cert, key: files.gwB.key, ca: [files.fedBCa] },
      },
      // the budget is checked after the fact; on a loaded test machine an ACK decided late would
      // be dropped (fail closed) and the call never confirmed
      policy: { path: policyDir, eval_timeout_ms: 10_000 },
      proxy: { local_names: ['gw.bastion.example'] },
      log: { level: 'info', decisions: true },
    };
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    gw = await Gateway.start(parseConfig(JSON.stringify(cfg), 'baresip-test', dir), { logger });
    portA = gw.listener('tls', 'fedA').port;
    portB = gw.listener('tls', 'fedB').port;

    [alice, bob] = await Promise.all([
      Baresip.start({
        name: 'alice', dir: join(dir, 'alice'), aor: 'sip:alice@atlanta.example', certKeyPem: files.alice, caFile: files.fedACa,
        outbound: `sip:127.0.0.1:${portA};transport=tls`, answermode: 'manual', sipPort: aliceSip, ctrlPort: aliceCtrl,
        rtpPorts: [rtpA, rtpA + 3], dnsPort,
      }),
      Baresip.start({
        name: 'bob', dir: join(dir, 'bob'), aor: 'sip:bob@biloxi.example', certKeyPem: files.bob, caFile: files.fedBCa,
        outbound: `sip:127.0.0.1:${portB};transport=tls`, answermode: 'manual', sipPort: bobSip, ctrlPort: bobCtrl,
        rtpPorts: [rtpB, rtpB + 3], dnsPort,
      }),
    ]);
  }, 240_000); // compiling the example policy takes long on a loaded machine

  afterEach(async () => {
    // a failed test must not leave a call up for the next one
    await Promise.all([alice?.command('hangup').catch(() => undefined), bob?.command('hangup').catch(() => undefined)]);
  });

  afterAll(async () => {
    // BARESIP_DEBUG=<folder>: keep both UAs' output (SIP traces) and the gateway's log lines there
    const keep = process.env.BARESIP_DEBUG;
    if (keep) {
      writeFileSync(join(keep, 'alice.txt'), alice?.output() ?? '');
      writeFileSync(join(keep, 'bob.txt'), bob?.output() ?? '');
      writeFileSync(join(keep, 'gateway.jsonl'), logLines.map((l) => JSON.stringify(l)).join('\n'));
    }
    await Promise.all([alice?.stop(), bob?.stop()]);
    await gw?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const gwPorts = () => [portA, portB];
  /** The gateway's decisions for one call, as `METHOD` or `METHOD status`. */
  const decided = (callId: string) =>
    logLines.filter((l) => l.msg === 'decision' && l.call_id === callId).map((l) => `${String(l.method)}${l.status ? ` ${String(l.status)}` : ''}`);
  const inDialog = (m: SipMessage) => m.to.params['tag'] !== undefined;

  /** `caller` dials `callee`; resolves with the call's id once the callee rings. */
  async function ring(caller: Baresip, callee: Baresip, uri: string): Promise<string> {
    const from = callee.events.length;
    const r = await caller.command('dial', uri);
    expect(r.ok, r.data).toBe(true);
    const incoming = await callee.waitEvent('CALL_INCOMING', { from });
    expect(incoming.id).toBeTruthy();
    return incoming.id!;
  }

  async function establish(caller: Baresip, callee: Baresip, uri: string): Promise<string> {
    const [c0, e0] = [caller.events.length, callee.events.length];
    const id = await ring(caller, callee, uri);
    expect((await callee.command('accept')).ok).toBe(true);
    await caller.waitEvent('CALL_ESTABLISHED', { from: c0, id });
    await callee.waitEvent('CALL_ESTABLISHED', { from: e0, id }); // the callee saw the ACK
    return id;
  }

  async function hangUp(by: Baresip, other: Baresip, id: string): Promise<void> {
    const [b0, o0] = [by.events.length, other.events.length];
    expect((await by.command('hangup')).ok).toBe(true);
    await other.waitEvent('CALL_CLOSED', { from: o0, id });
    await by.waitEvent('CALL_CLOSED', { from: b0, id });
  }

  it('alice calls bob: the INVITE crosses with a double Record-Route and the fedB certificate; alice (caller) hangs up', async () => {
    const id = await establish(alice, bob, 'sip:bob@biloxi.example');
    const invite = bob.received(gwPorts()).find((m) => isReq('INVITE')(m) && m.callId === id)!;
    expect(invite).toBeDefined();
    // both legs record-routed: the top entry faces bob (fedB listener), the next alice (fedA)
    expect(invite.getAll('record-route')).toEqual([`<sip:127.0.0.1:${portB};transport=tls;lr>`, `<sip:127.0.0.1:${portA};transport=tls;lr>`]);
    expect(invite.via).toHaveLength(2);
    expect(invite.via[1]).toMatchObject({ received: '127.0.0.1' }); // RFC 3581: alice asked for rport
    expect(invite.via[1]!.rport).toMatch(/^\d+$/);
    // S5: alice's certificate chains to the trusted federation A, so bob's phone rings differently
    expect(invite.getAll('alert-info')).toEqual(['<http://ring.example/trusted.wav>']);
    const out = logLines.find((l) => l.msg === 'tls: outbound connection up' && l.client_domain === 'fedB');
    expect(out).toMatchObject({ expected_domain: 'biloxi.example', peer: 'CN=ua.biloxi.example,O=FedB' });

    await hangUp(alice, bob, id);
    const bye = bob.received(gwPorts()).find((m) => isReq('BYE')(m) && m.callId === id);
    expect(bye).toBeDefined();
    expect(decided(id)).toEqual(expect.arrayContaining(['INVITE', 'INVITE 180', 'INVITE 200', 'ACK', 'BYE', 'BYE 200']));
  });

  it('bob calls alice: alice (callee) hangs up; the gateway takes the BYE to bob\'s Contact with the fedB certificate', async () => {
    const id = await establish(bob, alice, 'sip:alice@atlanta.example');
    await hangUp(alice, bob, id);
    // bob's Contact is its TLS port: the BYE arrives there, on a connection the gateway opened
    const bye = bob.trace().find((e) => isReq('BYE')(e.msg) && e.msg.callId === id)!;
    expect(bye).toBeDefined();
    expect(bye.dst.port).toBe(bob.tlsPort);
    expect(bye.msg.route).toHaveLength(0); // the gateway consumed both of its Route entries
    // the Contact is an address: the policy picks the client domain from the To domain (in a
    // dialog) and the domain bob's certificate must prove (biloxi.example)
    const byeDecision = logLines.find((l) => l.msg === 'decision' && l.call_id === id && l.method === 'BYE' && !l.status);
    expect(byeDecision).toMatchObject({ decision: { allow: true, client_domain: 'fedB', route: { expected_domain: 'biloxi.example' } } });
    expect(logLines.some((l) => l.msg === 'tls: outbound connection up' && l.client_domain === 'fedB' && l.remote === `127.0.0.1:${bob.tlsPort}`)).toBe(true);
    expect(decided(id)).toEqual(expect.arrayContaining(['INVITE', 'INVITE 200', 'ACK', 'BYE', 'BYE 200']));
  });

  it('re-INVITEs both ways inside a call, then bob (callee) hangs up', async () => {
    const id = await establish(alice, bob, 'sip:bob@biloxi.example');
    // bob (the callee) re-INVITEs: through the gateway to alice's Contact
    expect((await bob.command('reinvite')).ok).toBe(true);
    const reInvite = await alice.waitTrace('re-INVITE at alice', () => alice.received(gwPorts()).find((m) => isReq('INVITE')(m) && m.callId === id && inDialog(m)));
    const ok = await bob.waitTrace('200 for the re-INVITE at bob', () => bob.received(gwPorts()).find((m) => isResp(200, 'INVITE')(m) && m.callId === id && m.cseq.seq === reInvite.cseq.seq));
    expect(ok.callId).toBe(id);
    // alice (the caller) re-INVITEs: through the gateway by bob's Route set
    expect((await alice.command('reinvite')).ok).toBe(true);
    const back = await bob.waitTrace('re-INVITE at bob', () => bob.received(gwPorts()).find((m) => isReq('INVITE')(m) && m.callId === id && inDialog(m)));
    await alice.waitTrace('200 for it at alice', () => alice.received(gwPorts()).find((m) => isResp(200, 'INVITE')(m) && m.callId === id && m.cseq.seq === back.cseq.seq));
    // in-dialog requests are not record-routed again
    expect(reInvite.getAll('record-route')).toEqual([]);
    expect(back.getAll('record-route')).toEqual([]);
    await hangUp(bob, alice, id);
    expect(decided(id).filter((d) => d === 'INVITE')).toHaveLength(3);
    expect(decided(id).filter((d) => d === 'ACK')).toHaveLength(3);
  });

  it('CANCEL: alice gives up before bob answers; bob sees the CANCEL, alice the 487', async () => {
    const a0 = alice.events.length;
    const id = await ring(alice, bob, 'sip:bob@biloxi.example');
    await alice.waitTrace('180 at alice', () => alice.received(gwPorts()).find((m) => isResp(180, 'INVITE')(m) && m.callId === id));
    await hangUp(alice, bob, id);
    expect(bob.received(gwPorts()).some((m) => isReq('CANCEL')(m) && m.callId === id)).toBe(true);
    await alice.waitTrace('487 at alice', () => alice.received(gwPorts()).find((m) => isResp(487, 'INVITE')(m) && m.callId === id));
    expect(alice.events.slice(a0).some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
    expect(decided(id)).toEqual(expect.arrayContaining(['INVITE', 'CANCEL', 'INVITE 487']));
  });

  it('486: bob refuses the call; alice gets the 486 through the gateway', async () => {
    const a0 = alice.events.length;
    const id = await ring(alice, bob, 'sip:bob@biloxi.example');
    expect((await bob.command('hangup')).ok).toBe(true);
    const busy = await alice.waitTrace('486 at alice', () => alice.received(gwPorts()).find((m) => isResp(486, 'INVITE')(m) && m.callId === id));
    expect(busy.status).toBe(486);
    const closed = await alice.waitEvent('CALL_CLOSED', { from: a0, id });
    expect(String(closed.param)).toContain('486');
    expect(decided(id)).toEqual(expect.arrayContaining(['INVITE', 'INVITE 486']));
  });

  // baresip 1.0 cannot dial sips:, nor send an in-dialog request through a SIPS Route set: its SIP
  // stack (libre) refuses any next hop whose scheme is not sip: (sip_request: ENOSYS) and the call
  // ends locally without a BYE on the wire. So the sips: side is a hand-made UA, and it hangs up.
  it('a sips: call (hand-made caller): SIPS Record-Route on both legs; the caller hangs up by that Route set', async () => {
    // the caller: a TLS client with alice's certificate
    const caller = await tlsClient(portA, { cert: aliceCert.chainPem, key: aliceCert.keyPem }, fedACaPem);
    try {
      const local = (caller.socket as { localPort?: number }).localPort;
      const b0 = bob.events.length;
      const callId = `sips-${Date.now()}`;
      const via = (branch: string) => `Via: SIP/2.0/TLS 127.0.0.1:${local};branch=z9hG4bK-${branch};rport`;
      caller.send(
        sip(
          [
            'INVITE sips:bob@biloxi.example SIP/2.0',
            via(callId),
            `Route: <sips:127.0.0.1:${portA};lr>`,
            'Max-Forwards: 70',
            `From: <sips:alice@atlanta.example>;tag=a-${callId}`,
            'To: <sips:bob@biloxi.example>',
            `Call-ID: ${callId}`,
            'CSeq: 1 INVITE',
            `Contact: <sips:alice@127.0.0.1:${local}>`,
            'Content-Type: application/sdp',
          ],
          SDP,
        ),
      );
      const incoming = await bob.waitEvent('CALL_INCOMING', { from: b0 });
      expect(incoming.id).toBe(callId);
      const inv = bob.received(gwPorts()).find((m) => isReq('INVITE')(m) && m.callId === callId)!;
      expect(inv.requestUri).toBe('sips:bob@biloxi.example');
      expect(inv.route).toHaveLength(0); // the gateway's own SIPS Route entry consumed
      // RFC 3261 §16.6 step 4: SIPS Record-Route, on the leg towards bob and on the one towards alice
      const rr = [`<sips:127.0.0.1:${portB};lr>`, `<sips:127.0.0.1:${portA};lr>`];
      expect(inv.getAll('record-route')).toEqual(rr);
      expect((await bob.command('accept')).ok).toBe(true);
      const ok = await caller.inbox.wait((m) => isResp(200, 'INVITE')(m) && m.callId === callId, '200 at the sips caller');
      expect(ok.getAll('record-route')).toEqual(rr);
      const target = (ok.contact as { uri: { raw: string } }[])[0]!.uri.raw;
      const inDialog = (method: string, branch: string, cseq: number) => [
        `${method} ${target} SIP/2.0`,
        via(branch),
        `Route: ${[...rr].reverse().join(', ')}`, // the caller's route set: its own leg first
        'Max-Forwards: 70',
        `From: <sips:alice@atlanta.example>;tag=a-${callId}`,
        `To: ${ok.fields('to')[0]!.value}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
      ];
      caller.send(sip(inDialog('ACK', `ack-${callId}`, 1)));
      await bob.waitEvent('CALL_ESTABLISHED', { from: b0, id: callId });
      caller.send(sip(inDialog('BYE', `bye-${callId}`, 2)));
      await bob.waitEvent('CALL_CLOSED', { from: b0, id: callId });
      await caller.inbox.wait((m) => isResp(200, 'BYE')(m) && m.callId === callId, '200 for the BYE at the sips caller');
      const bye = bob.received(gwPorts()).find((m) => isReq('BYE')(m) && m.callId === callId)!;
      expect(bye.route).toHaveLength(0); // both SIPS entries recognised as the gateway's and consumed
      expect(decided(callId)).toEqual(expect.arrayContaining(['INVITE', 'INVITE 200', 'ACK', 'BYE', 'BYE 200']));
    } finally {
      caller.socket.destroy();
    }
  });
});
