// Scenarios S1, S3, S6 and S8 on the wire: the example policy (policies/sip) with one scenario
// enabled at a time, real TLS peers with real certificates, and the decision read off the wire
// (status and reason at the caller, the request at the callee or not). The Rego unit tests of
// each scenario (policies/sip/scenario/*_test.rego) show the same rules offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import YAML from 'yaml';
import { CertificateAuthority, type IssuedCertificate } from '../tls/pki/index.js';
import { TempDir } from '../tls/testkit.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';
import { Gateway } from './gateway.js';
import { parseConfig, type GatewayConfig } from './config.js';
import { writeTestPolicy } from './testing/topology.js';
import { UdpPeer, answer, isReq, sip, tlsClient, type StreamPeer } from './testing/peer.js';
import type { SipMessage } from '../sip/message.js';

const ready = await compilerReady();

interface Pki {
  dir: TempDir;
  enterprise: CertificateAuthority;
  itspx: CertificateAuthority;
  fedA: CertificateAuthority;
  rogue: CertificateAuthority;
  gw: IssuedCertificate;
  corp: IssuedCertificate; // an enterprise proxy
  partner: IssuedCertificate; // ITSP X, a bilateral partner
  member: IssuedCertificate; // a federation A member: trusted by the TLS layer, not by S1's policy
  bob: IssuedCertificate; // CN=Bob (S6)
  alice: IssuedCertificate; // CN=Alice (S6)
  bobOps: IssuedCertificate; // CN=Bob, the named administrative certificate (S6)
  revoked: IssuedCertificate;
  stranger: IssuedCertificate; // from a CA nobody trusts
  crl: string;
}

async function makeScenarioPki(): Promise<Pki> {
  const dir = new TempDir();
  const key = { type: 'ec', curve: 'P-256' } as never;
  const enterprise = await CertificateAuthority.createRoot({ subject: 'CN=Example Corp Root CA, O=Example Corp', key });
  const itspx = await CertificateAuthority.createRoot({ subject: 'CN=ITSP X CA, O=ITSP X', key });
  const fedA = await CertificateAuthority.createRoot({ subject: 'CN=Federation A Root, O=FedA', key });
  const rogue = await CertificateAuthority.createRoot({ subject: 'CN=Rogue Root, O=Nobody', key });
  const leaf = (ca: CertificateAuthority, cn: string, domain: string) => ca.issue({ subject: `CN=${cn}`, san: { dns: [domain], uri: [`sip:${domain}`] }, usage: 'both', key });
  const pki = {
    dir,
    enterprise,
    itspx,
    fedA,
    rogue,
    gw: await leaf(enterprise, 'gw.bastion.example', 'bastion.example'),
    corp: await leaf(enterprise, 'sip.corp.example', 'corp.example'),
    partner: await leaf(itspx, 'sbc.itspx.example', 'itspx.example'),
    member: await leaf(fedA, 'sip.atlanta.example', 'atlanta.example'),
    bob: await leaf(enterprise, 'Bob', 'corp.example'),
    alice: await leaf(enterprise, 'Alice', 'corp.example'),
    bobOps: await leaf(enterprise, 'Bob', 'corp.example'),
    revoked: await leaf(enterprise, 'sip.gone.example', 'corp.example'),
    stranger: await leaf(rogue, 'sip.stranger.example', 'corp.example'),
    crl: '',
  };
  enterprise.revoke(pki.revoked);
  pki.crl = dir.write('enterprise.crl', (await enterprise.crl()).pem);
  return pki;
}

const sha256 = (c: IssuedCertificate) => createHash('sha256').update(new X509Certificate(c.certPem).raw).digest('hex');
const pem = (c: IssuedCertificate) => ({ cert: c.chainPem, key: c.keyPem });

/** A gateway on the example policy with `scenarios` enabled and the config sections given. */
async function scenarioGateway(pki: Pki, name: string, scenarios: string[], sections: Record<string, unknown>, domain: { require: boolean }, far: UdpPeer) {
  const policyDir = writeTestPolicy(join(pki.dir.path, `policy-${name}`), { host: '127.0.0.1', port: far.port });
  const data = YAML.parse(readFileSync(join(policyDir, 'data.yaml'), 'utf8')) as { config: Record<string, unknown> };
  data.config.scenarios = [...scenarios, 'routing'];
  Object.assign(data.config, sections);
  // every destination of these tests goes to the far UDP peer
  data.config.routing = { next_hops: { 'biloxi.example': `sip:127.0.0.1:${far.port};transport=udp`, 'chicago.example': `sip:127.0.0.1:${far.port};transport=udp` } };
  writeFileSync(join(policyDir, 'data.yaml'), YAML.stringify(data));
  const ca = [pki.enterprise, pki.itspx, pki.fedA].map((c, i) => pki.dir.write(`trusted-${name}-${i}.pem`, c.certPem));
  const gwFiles = pki.dir.writeCert(`gw-${name}`, pki.gw);
  const cfg: GatewayConfig = {
    listen: [
      { transport: 'tls', address: '127.0.0.1', port: 0, server_domain: 'edge' },
      { transport: 'udp', address: '127.0.0.1', port: 0 },
    ],
    server_domains: { edge: { cert: gwFiles.cert, key: gwFiles.key, ca, crl: [pki.crl], verify: true, require: domain.require } },
    client_domains: { default: { ca } },
    policy: { path: policyDir },
    proxy: { local_names: ['gw.bastion.example'] },
    log: { level: 'warn', decisions: false },
  };
  return Gateway.start(parseConfig(JSON.stringify(cfg), 'scenario-config', pki.dir.path), { logger: pino({ level: process.env.SCN_DEBUG ? 'debug' : 'silent' }) });
}

let seq = 0;
function request(method: string, ruri: string, from = 'sip:alice@corp.example'): { msg: SipMessage; callId: string } {
  const callId = `scn-${++seq}`;
  const msg = sip([
    `${method} ${ruri} SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `From: <${from}>;tag=f-${callId}`,
    `To: <${ruri}>`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    'Contact: <sip:caller@127.0.0.1:5999;transport=tls>',
  ]);
  return { msg, callId };
}

/** Sends a request on `peer` and returns the final answer as "STATUS Reason". */
async function finalAnswer(peer: StreamPeer, far: UdpPeer, method: string, ruri: string, from?: string): Promise<string> {
  const { msg, callId } = request(method, ruri, from);
  peer.send(msg);
  // the far peer answers 200 to what reaches it (nothing, when the policy refuses)
  void far.inbox.wait((m) => isReq(method)(m) && m.callId === callId, `${method} at the far peer`, 20_000).then(
    (m) => far.send(answer(m, 200, 'OK', { toTag: 'far' }).toBuffer(), farGatewayPort),
    () => undefined,
  );
  const r = await peer.inbox.wait((m) => m.kind === 'response' && m.status >= 200 && m.callId === callId, `final response to ${method}`, 20_000);
  return `${r.status} ${r.reason}`;
}

/** Whether the far peer ever saw this Call-ID. */
const reachedFar = (far: UdpPeer, callId: string) => far.inbox.messages.some((m) => m.callId === callId);

let farGatewayPort = 0;

describe.skipIf(!ready)('scenarios on the wire', () => {
  let pki: Pki;
  let far: UdpPeer;
  const gateways: Gateway[] = [];
  const peers: StreamPeer[] = [];

  beforeAll(async () => {
    pki = await makeScenarioPki();
    far = new UdpPeer();
    await far.bind();
  }, 60_000);

  afterAll(async () => {
    for (const p of peers) p.socket.destroy();
    for (const g of gateways) await g.stop();
    far?.close();
    pki?.dir.remove();
  });

  async function start(name: string, scenarios: string[], sections: Record<string, unknown>, require: boolean): Promise<number> {
    const gw = await scenarioGateway(pki, name, scenarios, sections, { require }, far);
    gateways.push(gw);
    farGatewayPort = gw.listener('udp').port;
    return gw.listener('tls').port;
  }

  async function connect(port: number, cert?: IssuedCertificate): Promise<StreamPeer> {
    const p = await tlsClient(port, cert ? pem(cert) : undefined, pki.gw.chainPem);
    peers.push(p);
    return p;
  }

  describe('S1 enterprise: one company CA', () => {
    it('with require: a peer of an unknown CA is refused at the handshake', async () => {
      const port = await start('s1-require', ['enterprise'], {}, true);
      const refused = await tlsClient(port, pem(pki.stranger), pki.gw.chainPem).then(
        async (p) => {
          p.send(request('OPTIONS', 'sip:gw.bastion.example').msg);
          await p.closed; // TLS 1.3: the client may finish its side first; the server then closes
          return p.inbox.messages.length === 0;
        },
        () => true,
      );
      expect(refused).toBe(true);
    });

    it('a company peer is let through; a peer verified by another trusted CA gets the enterprise 403', async () => {
      const port = await start('s1', ['enterprise'], { enterprise: { trusted_anchors: ['CN=Example Corp Root CA,O=Example Corp'], reject_reason: 'Certificate Not Trusted' } }, false);
      const corp = await connect(port, pki.corp);
      expect(await finalAnswer(corp, far, 'INVITE', 'sip:bob@biloxi.example')).toBe('200 OK');
      const member = await connect(port, pki.member);
      const { msg, callId } = request('INVITE', 'sip:bob@biloxi.example');
      member.send(msg);
      const r = await member.inbox.wait((m) => m.kind === 'response' && m.status >= 200 && m.callId === callId, 'final');
      expect(`${r.status} ${r.reason}`).toBe('403 Certificate Not Trusted');
      expect(reachedFar(far, callId)).toBe(false);
    });
  });

  describe('S3 bilateral: each partner its CA and its destinations', () => {
    it('the partner reaches its destinations only; an unknown partner is refused', async () => {
      const port = await start('s3', ['bilateral'], { bilateral: { partners: { itspx: { ca: 'CN=ITSP X CA,O=ITSP X', destinations: ['biloxi.example'] } } } }, false);
      const partner = await connect(port, pki.partner);
      expect(await finalAnswer(partner, far, 'INVITE', 'sip:bob@biloxi.example', 'sip:x@itspx.example')).toBe('200 OK');
      expect(await finalAnswer(partner, far, 'INVITE', 'sip:carol@chicago.example', 'sip:x@itspx.example')).toBe('403 Destination Not Allowed For Partner');
      const corp = await connect(port, pki.corp);
      expect(await finalAnswer(corp, far, 'INVITE', 'sip:bob@biloxi.example')).toBe('403 Unknown Partner');
    });
  });

  describe('S6 certificate-based access control', () => {
    it('CN allow-list, the named administrative certificate, and the operator-chosen answer for unverified peers', async () => {
      const port = await start(
        's6',
        ['cn_access'],
        { cn_access: { allowed_cns: ['Bob'], unverified: { status: 401, reason: 'Verified Certificate Required' }, admin: { name: 'bob-operations', sha256: sha256(pki.bobOps), methods: ['NOTIFY'] } } },
        false,
      );
      const bob = await connect(port, pki.bob);
      expect(await finalAnswer(bob, far, 'INVITE', 'sip:carol@biloxi.example')).toBe('200 OK');
      expect(await finalAnswer(bob, far, 'NOTIFY', 'sip:carol@biloxi.example')).toBe('403 Administrative Method Not Allowed');
      const ops = await connect(port, pki.bobOps);
      expect(await finalAnswer(ops, far, 'NOTIFY', 'sip:carol@biloxi.example')).toBe('200 OK');
      const alice = await connect(port, pki.alice);
      expect(await finalAnswer(alice, far, 'INVITE', 'sip:carol@biloxi.example')).toBe('403 Forbidden');
      const anonymous = await connect(port);
      expect(await finalAnswer(anonymous, far, 'INVITE', 'sip:carol@biloxi.example')).toBe('401 Verified Certificate Required');
    });
  });

  describe('S8 verify without require', () => {
    it('a peer without a certificate may only send OPTIONS; a revoked or unknown certificate may send nothing', async () => {
      const port = await start('s8', ['unverified'], { unverified: { anonymous_methods: ['OPTIONS'] } }, false);
      const anonymous = await connect(port);
      expect(await finalAnswer(anonymous, far, 'OPTIONS', 'sip:bob@biloxi.example')).toBe('200 OK');
      expect(await finalAnswer(anonymous, far, 'INVITE', 'sip:bob@biloxi.example')).toBe('403 Certificate Required');
      const revoked = await connect(port, pki.revoked);
      expect(await finalAnswer(revoked, far, 'OPTIONS', 'sip:bob@biloxi.example')).toBe('403 Certificate Verification Failed');
      const stranger = await connect(port, pki.stranger);
      expect(await finalAnswer(stranger, far, 'INVITE', 'sip:bob@biloxi.example')).toBe('403 Certificate Verification Failed');
      const corp = await connect(port, pki.corp);
      expect(await finalAnswer(corp, far, 'INVITE', 'sip:bob@biloxi.example')).toBe('200 OK');
    });
  });
});
