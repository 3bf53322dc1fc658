// Trust on the wire, through the running gateway with real TLS peers and certificates:
// - a next hop named by an IP address (no expected_domain) must prove that address in an IP SAN,
//   else the request is answered 502 (fail closed), like a domain mismatch;
// - a CRL reload reaches open connections: a peer revoked during a call is closed
//   (on_revocation: close) or marked CERT_REVOKED for the policy (on_revocation: mark); no other
//   connection is touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { TlsPeerServer, UdpPeer, answer, isReq, sip, tlsClient, type StreamPeer } from './testing/peer.js';
import type { SipMessage } from '../sip/message.js';

const ready = await compilerReady();

const key = { type: 'ec', curve: 'P-256' } as never;
const pem = (c: IssuedCertificate) => ({ cert: c.chainPem, key: c.keyPem });

describe.skipIf(!ready)('trust on the wire', () => {
  let dir: TempDir;
  let root: CertificateAuthority;
  let gw: Gateway;
  let far: UdpPeer;
  const hops: Record<'ip' | 'noIp' | 'otherIp' | 'marked', TlsPeerServer> = {} as never;
  const peers: StreamPeer[] = [];
  const logLines: Record<string, unknown>[] = [];
  let crlFile = '';
  let closingPort = 0;
  let markingPort = 0;
  const certs: Record<string, IssuedCertificate> = {};

  beforeAll(async () => {
    dir = new TempDir();
    root = await CertificateAuthority.createRoot({ subject: 'CN=Trust Test Root, O=Lab', key });
    const issue = (cn: string, san: { dns?: string[]; ip?: string[] }) => root.issue({ subject: `CN=${cn}, O=Lab`, san, usage: 'both', key });
    certs.gw = await issue('gw.bastion.example', { dns: ['gw.bastion.example'], ip: ['127.0.0.1'] });
    certs.hopIp = await issue('hop-ip.example', { dns: ['hop-ip.example'], ip: ['127.0.0.1'] });
    certs.hopNoIp = await issue('hop-noip.example', { dns: ['hop-noip.example', '127.0.0.1'] }); // an address as a DNS name proves nothing
    certs.hopOtherIp = await issue('hop-otherip.example', { dns: ['hop-otherip.example'], ip: ['127.0.0.2'] });
    certs.hopMarked = await issue('hop-marked.example', { dns: ['hop-marked.example'], ip: ['127.0.0.1'] });
    for (const who of ['victimClose', 'victimMark', 'bystanderClose', 'bystanderMark']) certs[who] = await issue(`${who}.example`, { dns: [`${who}.example`] });
    crlFile = dir.write('root.crl', (await root.crl()).pem);
    const rootFile = dir.write('root.pem', root.certPem);
    const gwFiles = dir.writeCert('gw', certs.gw);

    hops.ip = new TlsPeerServer({ ...pem(certs.hopIp), ca: root.certPem });
    hops.noIp = new TlsPeerServer({ ...pem(certs.hopNoIp), ca: root.certPem });
    hops.otherIp = new TlsPeerServer({ ...pem(certs.hopOtherIp), ca: root.certPem });
    hops.marked = new TlsPeerServer({ ...pem(certs.hopMarked), ca: root.certPem });
    for (const h of Object.values(hops)) await h.listen();
    far = new UdpPeer();
    await far.bind();

    // the example policy: S8 (a presented certificate that fails verification may send nothing),
    // biloxi.example routed to the far UDP peer
    const policyDir = writeTestPolicy(join(dir.path, 'policy'), { host: '127.0.0.1', port: far.port });
    const data = YAML.parse(readFileSync(join(policyDir, 'data.yaml'), 'utf8')) as { config: Record<string, unknown> };
    data.config.scenarios = ['unverified', 'routing'];
    data.config.routing = { next_hops: { 'biloxi.example': `sip:127.0.0.1:${far.port};transport=udp` } };
    writeFileSync(join(policyDir, 'data.yaml'), YAML.stringify(data));
    const domain = { cert: gwFiles.cert, key: gwFiles.key, ca: [rootFile], crl: [crlFile], verify: true };
    const cfg: GatewayConfig = {
      listen: [
        { transport: 'tls', address: '127.0.0.1', port: 0, server_domain: 'closing' },
        { transport: 'tls', address: '127.0.0.1', port: 0, server_domain: 'marking' },
        { transport: 'udp', address: '127.0.0.1', port: 0 },
      ],
      server_domains: { closing: { ...domain, require: true }, marking: { ...domain, require: false, on_revocation: 'mark' } },
      client_domains: {
        default: { cert: gwFiles.cert, key: gwFiles.key, ca: [rootFile], crl: [crlFile] },
        // chosen by destination: the hop whose connection is marked, not closed
        markingOut: { cert: gwFiles.cert, key: gwFiles.key, ca: [rootFile], crl: [crlFile], destinations: [`127.0.0.1:${hops.marked.port}`], on_revocation: 'mark' },
      },
      policy: { path: policyDir, eval_timeout_ms: 10_000 },
      proxy: { local_names: ['gw.bastion.example'] },
      log: { level: 'info', decisions: false },
    };
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
    gw = await Gateway.start(parseConfig(JSON.stringify(cfg), 'trust-config', dir.path), { logger });
    closingPort = gw.listener('tls', 'closing').port;
    markingPort = gw.listener('tls', 'marking').port;
  }, 120_000);

  afterAll(async () => {
    for (const p of peers) p.socket.destroy();
    await gw?.stop();
    for (const h of Object.values(hops)) await h.close();
    far?.close();
    dir?.remove();
  });

  async function connect(port: number, cert: IssuedCertificate): Promise<StreamPeer> {
    const p = await tlsClient(port, pem(cert), root.certPem);
    peers.push(p);
    return p;
  }

  let seq = 0;
  function request(method: string, ruri: string, extra: string[] = []): { msg: SipMessage; callId: string } {
    const callId = `trust-${++seq}`;
    const msg = sip([
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${callId}`,
      'Max-Forwards: 70',
      `From: <sip:caller@corp.example>;tag=f-${callId}`,
      `To: <${ruri}>`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      'Contact: <sip:caller@127.0.0.1:5999;transport=tls>',
      ...extra,
    ]);
    return { msg, callId };
  }

  const finalOf = (peer: StreamPeer, callId: string) => peer.inbox.wait((m) => m.kind === 'response' && m.status >= 200 && m.callId === callId, `final response to ${callId}`, 30_000);

  /** A request to biloxi.example (the far UDP peer answers 200) and its final answer. */
  async function viaFar(peer: StreamPeer, method: string): Promise<string> {
    const { msg, callId } = request(method, 'sip:bob@biloxi.example');
    peer.send(msg);
    void far.inbox.wait((m) => isReq(method)(m) && m.callId === callId, `${method} at the far peer`, 30_000).then(
      (m) => far.send(answer(m, 200, 'OK', { toTag: 'far' }).toBuffer(), gw.listener('udp').port),
      () => undefined,
    );
    const r = await finalOf(peer, callId);
    return `${r.status} ${r.reason}`;
  }

  describe('an IP next hop without expected_domain is checked against the IP SANs', () => {
    /** An INVITE whose Route set names the hop by address (the policy gives no route for chicago.example). */
    async function throughRoute(hop: TlsPeerServer): Promise<{ answer: string; reached: boolean }> {
      const caller = await connect(closingPort, certs.bystanderClose);
      const { msg, callId } = request('INVITE', 'sip:carol@chicago.example', [`Route: <sip:127.0.0.1:${closingPort};transport=tls;lr>, <sips:127.0.0.1:${hop.port};lr>`]);
      caller.send(msg);
      void hop.inbox.wait((m) => isReq('INVITE')(m) && m.callId === callId, 'INVITE at the hop', 30_000).then(
        (m) => hop.peerOf(m).send(answer(m, 200, 'OK', { toTag: 'hop' })),
        () => undefined,
      );
      const r = await finalOf(caller, callId);
      caller.socket.destroy();
      return { answer: `${r.status} ${r.reason}`, reached: hop.inbox.messages.some((m) => m.callId === callId) };
    }

    it('a certificate with the address in an IP SAN: forwarded', async () => {
      expect(await throughRoute(hops.ip)).toEqual({ answer: '200 OK', reached: true });
    });

    it('a certificate without that IP SAN (the address only as a DNS name): 502, never forwarded', async () => {
      expect(await throughRoute(hops.noIp)).toEqual({ answer: '502 Next Hop Not Trusted', reached: false });
    });

    it('a certificate for another address: 502, never forwarded', async () => {
      expect(await throughRoute(hops.otherIp)).toEqual({ answer: '502 Next Hop Not Trusted', reached: false });
      const refused = logLines.filter((l) => JSON.stringify(l).includes('IP_ADDRESS_MISMATCH'));
      expect(refused.length).toBeGreaterThan(0);
    });
  });

  describe('a reload reaches open connections (on_revocation)', () => {
    it('a peer revoked during a call: closed on a close domain, marked CERT_REVOKED on a mark domain; no other connection touched', async () => {
      const victimClose = await connect(closingPort, certs.victimClose);
      const bystanderClose = await connect(closingPort, certs.bystanderClose);
      const victimMark = await connect(markingPort, certs.victimMark);
      const bystanderMark = await connect(markingPort, certs.bystanderMark);
      // calls up on every connection
      for (const p of [victimClose, bystanderClose, victimMark, bystanderMark]) expect(await viaFar(p, 'INVITE')).toBe('200 OK');
      const flowOf = (p: StreamPeer) => gw.connections().find((c) => c.remote === `127.0.0.1:${p.socket.localPort}`);
      const before = Object.fromEntries([bystanderClose, bystanderMark].map((p) => [p.socket.localPort, JSON.stringify(gw.transports.connections.find((f) => f.remote.port === p.socket.localPort)?.identity)]));
      expect(flowOf(victimMark)?.peer?.verified).toBe(true);

      const victimPort = victimClose.socket.localPort;
      root.revoke(certs.victimClose);
      root.revoke(certs.victimMark);
      writeFileSync(crlFile, (await root.crl()).pem);
      const report = await gw.reload();
      expect(report.ok).toBe(true);
      if (!report.ok) return;
      expect(report.tls.reloaded).toBe(true);
      // the four callers, and the outbound connection to the IP hop when that test ran first
      expect(report.tls.reverified).toMatchObject({ closed: 1, marked: 1 });
      expect(report.tls.reverified!.checked).toBeGreaterThanOrEqual(4);

      // close: the connection is closed, the log names the peer and the reason
      await victimClose.closed;
      const line = logLines.find((l) => l.msg === 'tls: open connection closed: its peer no longer verifies after the reload');
      expect(line).toMatchObject({ domain: 'closing', verify_error: 'CERT_REVOKED', subject: 'CN=victimClose.example,O=Lab', remote: { port: victimPort } });

      // mark: the connection stays, its document says why, and the policy refuses its next request
      expect(victimMark.socket.destroyed).toBe(false);
      expect(flowOf(victimMark)?.peer).toMatchObject({ verified: false, verify_error: 'CERT_REVOKED' });
      expect(await viaFar(victimMark, 'OPTIONS')).toBe('403 Certificate Verification Failed');

      // nobody else: the other connections are open, verified, unchanged, and their calls go on
      for (const p of [bystanderClose, bystanderMark]) {
        expect(p.socket.destroyed).toBe(false);
        expect(flowOf(p)?.peer?.verified).toBe(true);
        expect(JSON.stringify(gw.transports.connections.find((f) => f.remote.port === p.socket.localPort)?.identity)).toBe(before[p.socket.localPort!]);
        expect(await viaFar(p, 'OPTIONS')).toBe('200 OK');
      }
      // a revoked peer that connects again is refused at once on the close domain (require: true)
      const again = await tlsClient(closingPort, pem(certs.victimClose), root.certPem).then(
        async (p) => {
          peers.push(p);
          await p.closed;
          return 'closed';
        },
        () => 'refused',
      );
      expect(['closed', 'refused']).toContain(again);
    });
  });

  describe('a reload reaches open outbound connections', () => {
    /** An OPTIONS to `hop` (by address, through the Route set) from `caller`, and its final answer. */
    async function optionsTo(caller: StreamPeer, hop: TlsPeerServer): Promise<{ answer: string; reached: boolean }> {
      const { msg, callId } = request('OPTIONS', 'sip:carol@chicago.example', [`Route: <sip:127.0.0.1:${closingPort};transport=tls;lr>, <sips:127.0.0.1:${hop.port};lr>`]);
      caller.send(msg);
      void hop.inbox.wait((m) => isReq('OPTIONS')(m) && m.callId === callId, 'OPTIONS at the hop', 30_000).then(
        (m) => hop.peerOf(m).send(answer(m, 200, 'OK', { toTag: 'hop' })),
        () => undefined,
      );
      const r = await finalOf(caller, callId);
      return { answer: `${r.status} ${r.reason}`, reached: hop.inbox.messages.some((m) => m.callId === callId) };
    }

    it('a next hop revoked while connected: its pooled connection is closed; the next request is refused 502', async () => {
      const caller = await connect(closingPort, certs.bystanderClose);
      const send = () => optionsTo(caller, hops.ip);
      expect(await send()).toEqual({ answer: '200 OK', reached: true });
      const pooled = hops.ip.peers.filter((p) => !p.socket.destroyed);
      expect(pooled.length).toBeGreaterThan(0);
      root.revoke(certs.hopIp);
      writeFileSync(crlFile, (await root.crl()).pem);
      const report = await gw.reload();
      expect(report.ok && report.tls.reverified?.closed).toBeGreaterThanOrEqual(1);
      for (const p of pooled) await p.closed;
      expect(logLines.some((l) => l.msg === 'tls: open connection closed: its peer no longer verifies after the reload' && l.direction === 'outbound' && l.verify_error === 'CERT_REVOKED')).toBe(true);
      expect(await send()).toEqual({ answer: '502 Next Hop Not Trusted', reached: false });
      caller.socket.destroy();
    });

    it('on a mark client domain: the connection stays, marked; new requests open a new connection, refused 502', async () => {
      const caller = await connect(closingPort, certs.bystanderClose);
      expect(await optionsTo(caller, hops.marked)).toEqual({ answer: '200 OK', reached: true });
      const open = hops.marked.peers.filter((p) => !p.socket.destroyed);
      expect(open).toHaveLength(1);
      root.revoke(certs.hopMarked);
      writeFileSync(crlFile, (await root.crl()).pem);
      const report = await gw.reload();
      expect(report.ok && report.tls.reverified?.marked).toBeGreaterThanOrEqual(1);
      const out = gw.connections().find((c) => c.direction === 'outbound' && c.domain === 'markingOut');
      expect(out?.peer).toMatchObject({ verified: false, verify_error: 'CERT_REVOKED' });
      expect(await optionsTo(caller, hops.marked)).toEqual({ answer: '502 Next Hop Not Trusted', reached: false });
      expect(open[0]!.socket.destroyed).toBe(false); // the marked connection itself was not closed
      caller.socket.destroy();
    });
  });

  describe('crl_stale on the wire', () => {
    it('a stale CRL after a reload: logged and counted in the metrics; with reject its CA\'s peers no longer verify', async () => {
      const peer = await connect(markingPort, certs.bystanderMark);
      expect(await viaFar(peer, 'OPTIONS')).toBe('200 OK');
      writeFileSync(crlFile, (await root.crl({ thisUpdate: new Date(Date.now() - 7_200_000), nextUpdate: new Date(Date.now() - 3_600_000) })).pem);
      const report = await gw.reload();
      expect(report.ok && report.tls.reverified?.marked).toBeGreaterThanOrEqual(1);
      // reported by the re-verification itself, or by the stale-CRL watch right after the reload's turn
      let metrics = '';
      for (let i = 0; i < 200 && !/sip_bastion_crl_stale_total\{domain="closing"/.test(metrics); i++) {
        await new Promise((r) => setTimeout(r, 50));
        metrics = await gw.metrics.text();
      }
      expect(metrics).toMatch(/sip_bastion_crl_stale_total\{domain="marking",action="rejected"\} 1/);
      expect(metrics).toMatch(/sip_bastion_crl_stale_total\{domain="closing",action="rejected"\} 1/);
      expect(logLines.some((l) => l.kind === 'crl-stale' && l.domain === 'marking' && l.action === 'rejected' && l.source === crlFile)).toBe(true);
      expect(gw.connections().find((c) => c.remote === `127.0.0.1:${peer.socket.localPort}`)?.peer).toMatchObject({ verified: false, verify_error: 'CRL_HAS_EXPIRED' });
      expect(await viaFar(peer, 'OPTIONS')).toBe('403 Certificate Verification Failed');
    });
  });
});
