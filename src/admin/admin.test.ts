// The admin API of a running gateway (real sockets: HTTP, TLS peers with test certificates): the
// metrics promtool accepts, health and readiness, the connection list with the peer's identity and
// dropping one, reload from the config file (applied whole or not at all), and bad admin clients
// (404, 405, 401, 413, slow clients cut off) that never hold up SIP traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { Gateway } from '../gateway/gateway.js';
import { loadConfig, type GatewayConfig } from '../gateway/config.js';
import { makePki, type TestPki } from '../gateway/testing/topology.js';
import { UdpPeer, isResp, tlsClient, type StreamPeer } from '../gateway/testing/peer.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';

const ready = await compilerReady();
const promtool = spawnSync('promtool', ['--version']).status === 0;
const TOKEN = 'test-admin-token-0123456789';

describe.skipIf(!ready)('admin API of a running gateway', () => {
  let pki: TestPki;
  let gw: Gateway;
  let base = '';
  let file = '';
  let cfg: GatewayConfig;
  const logLines: Record<string, unknown>[] = [];
  let atlanta: StreamPeer;

  const writeConfig = (c: GatewayConfig) => writeFileSync(file, YAML.stringify(c));
  const get = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(base + path, { ...init, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) } });

  const options = async (status = 200) => {
    const u = new UdpPeer();
    await u.bind();
    const port = gw.listener('udp').port;
    const callId = `opt-${Math.random().toString(36).slice(2)}`;
    u.send(
      [`OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${u.port};branch=z9hG4bK-${callId}`, 'Max-Forwards: 70', 'From: <sip:ops@atlanta.example>;tag=o1', `To: <sip:127.0.0.1:${port}>`, `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
      port,
    );
    try {
      return await u.inbox.wait(isResp(status, 'OPTIONS'), `${status} to OPTIONS`);
    } finally {
      u.close();
    }
  };

  beforeAll(async () => {
    pki = await makePki();
    const dir = pki.dir.path;
    mkdirSync(join(dir, 'policy'));
    writeFileSync(join(dir, 'policy', 'decision.rego'), 'package sip\n\ndecision := {"allow": true}\n');
    writeFileSync(join(dir, 'admin.token'), `${TOKEN}\n`);
    file = join(dir, 'bastion.yaml');
    cfg = {
      listen: [
        { transport: 'tls', address: '127.0.0.1', port: 0, server_domain: 'fedA' },
        { transport: 'udp', address: '127.0.0.1', port: 0 },
      ],
      server_domains: { fedA: { cert: pki.gwA.cert, key: pki.gwA.key, ca: [pki.fedACa], verify: true, require: true } },
      policy: { path: 'policy' },
      log: { level: 'info', decisions: true },
      admin: { address: '127.0.0.1', port: 0, token_file: 'admin.token', max_body_bytes: 1024, request_timeout_ms: 1000 },
    };
    writeConfig(cfg);
    gw = await Gateway.start(loadConfig(file), { logger: pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) }) });
    base = gw.admin!.url;
    atlanta = await tlsClient(gw.listener('tls', 'fedA').port, pki.text.atlanta, pki.text.fedACa);
  }, 300_000);

  afterAll(async () => {
    atlanta?.socket.destroy();
    await gw?.stop();
    pki?.dir.remove();
  });

  it('liveness and readiness answer without the token', async () => {
    const h = await get('/healthz', {}, null);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'alive' });
    const r = await get('/readyz', {}, null);
    expect(r.status).toBe(200);
    expect(gw.readiness()).toEqual({ ready: true, reasons: [] });
  });

  it('everything else needs the bearer token: missing or wrong → 401', async () => {
    for (const token of [null, 'wrong', `${TOKEN}x`]) {
      const r = await get('/metrics', {}, token);
      expect(r.status, String(token)).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await get('/connections', {}, null)).status).toBe(401);
    expect((await get('/reload', { method: 'POST' }, null)).status).toBe(401);
  });

  it.skipIf(!promtool)('/metrics: counts SIP messages and passes promtool check metrics', async () => {
    await options();
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toMatch(/^sip_bastion_messages_total\{direction="inbound",kind="request",method="OPTIONS",outcome="allowed",status="",failure=""\} [1-9]/m);
    expect(text).toMatch(/^sip_bastion_decision_duration_seconds_count [1-9]/m);
    expect(text).toMatch(/^sip_bastion_policy_info\{revision="sha256:[0-9a-f]{16}",source="[^"]+policy"\} 1$/m);
    expect(text).toMatch(/^sip_bastion_tls_handshakes_total\{side="inbound",domain="fedA",result="ok"\} [1-9]/m);
    expect(text).toMatch(/^sip_bastion_connections\{transport="tls",domain="fedA",verified="true"\} [1-9]/m);
    expect(text).toMatch(/^sip_bastion_ready 1$/m);
    expect(text).toMatch(/^sip_bastion_certificate_expiry_timestamp_seconds\{domain="fedA",role="server"\} \d{10}/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('/connections lists the TLS peer with its identity; DELETE closes it', async () => {
    // a message first, so that the connection has counted something
    atlanta.send(
      [`OPTIONS sip:127.0.0.1:${gw.listener('tls', 'fedA').port};transport=tls SIP/2.0`, 'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-conn1', 'Max-Forwards: 70', 'From: <sip:alice@atlanta.example>;tag=c1', `To: <sip:127.0.0.1>`, 'Call-ID: conn-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
    );
    await atlanta.inbox.wait(isResp(200, 'OPTIONS'), '200 OK over TLS');
    const list = (await (await get('/connections')).json()) as Array<Record<string, any>>;
    const c = list.find((x) => x.remote === `127.0.0.1:${atlanta.socket.localPort}`);
    expect(c).toMatchObject({
      transport: 'tls',
      direction: 'inbound',
      domain: 'fedA',
      peer: { subject: 'CN=sip.atlanta.example,O=FedA', issuer: 'CN=Federation A Root,O=FedA', verified: true, verify_error: null, sans: expect.arrayContaining(['DNS:sip.atlanta.example', 'URI:sip:atlanta.example']) },
      messages_in: 1,
      messages_out: 1,
    });
    expect(c!.peer.not_after).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(c!.age_s).toBeGreaterThanOrEqual(0);

    expect((await get('/connections/999999', { method: 'DELETE' })).status).toBe(404);
    expect((await get('/connections/abc', { method: 'DELETE' })).status).toBe(400);
    const d = await get(`/connections/${c!.id}`, { method: 'DELETE' });
    expect(d.status).toBe(200);
    expect(await d.json()).toEqual({ dropped: c!.id });
    await atlanta.closed;
    const after = (await (await get('/connections')).json()) as Array<{ id: number }>;
    expect(after.some((x) => x.id === c!.id)).toBe(false);
    atlanta = await tlsClient(gw.listener('tls', 'fedA').port, pki.text.atlanta, pki.text.fedACa);
  });

  it('bad requests: unknown path 404, wrong method 405 with Allow, a huge body 413', async () => {
    expect((await get('/nope')).status).toBe(404);
    const m = await get('/metrics', { method: 'POST' });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('GET');
    expect((await get('/reload', { method: 'GET' })).status).toBe(405);
    const big = await get('/reload', { method: 'POST', body: 'x'.repeat(100_000) }).catch((e: Error) => e);
    // refused before it is read: 413, or the connection closed under a client still sending
    if (big instanceof Error) expect(big.message).toMatch(/fetch failed|other side closed|EPIPE|ECONNRESET/);
    else expect(big.status).toBe(413);
  });

  it('a slow client is cut off, and SIP traffic goes on meanwhile', async () => {
    const url = new URL(base);
    const slow = net.connect(Number(url.port), url.hostname);
    slow.on('error', () => {});
    await new Promise((r) => slow.once('connect', r));
    slow.write('GET /metrics HTTP/1.1\r\nHost: x\r\n'); // and never the end of the headers
    const closedAt = new Promise<number>((r) => slow.once('close', () => r(Date.now())));
    const t0 = Date.now();
    expect((await options()).status).toBe(200);
    const closed = await closedAt;
    expect(closed - t0).toBeLessThan(30_000);
  });

  it('reload: unchanged policy is not recompiled; a new listener is bound; a broken config changes nothing', async () => {
    const before = gw.policy.info;
    const same = await gw.reload();
    expect(same).toMatchObject({ ok: true, tls: { reloaded: false, domains: ['fedA'] }, policy: { changed: false }, listeners: { added: [], removed: [] }, restart_required: [] });
    expect(gw.policy.info).toBe(before);

    // a new UDP listener, through the admin API
    writeConfig({ ...cfg, listen: [...cfg.listen, { transport: 'tcp', address: '127.0.0.1', port: 0 }] });
    const r = await get('/reload', { method: 'POST' });
    expect(r.status).toBe(200);
    const added = (await r.json()) as { ok: boolean; listeners: { added: string[] } };
    expect(added.listeners.added).toEqual([expect.stringMatching(/^tcp 127\.0\.0\.1:\d+$/)]);
    expect(gw.listeners.map((l) => l.transport).sort()).toEqual(['tcp', 'tls', 'udp']);

    // broken: a policy that does not compile AND a certificate that does not exist; nothing changes
    writeFileSync(join(pki.dir.path, 'policy2.rego'), 'package sip\n\ndecision := {"allow": x}\n');
    mkdirSync(join(pki.dir.path, 'policy2'), { recursive: true });
    writeFileSync(join(pki.dir.path, 'policy2', 'decision.rego'), 'package sip\n\ndecision := {"allow": x}\n');
    writeConfig({ ...cfg, listen: [cfg.listen[1]!], policy: { path: 'policy2' } });
    const bad = await get('/reload', { method: 'POST' });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { ok: boolean; errors: string[]; policy_in_force: string };
    expect(body.ok).toBe(false);
    expect(body.errors.join('\n')).toMatch(/decision\.rego:3:\d+: rego_unsafe_var_error/);
    expect(body.policy_in_force).toBe(before!.revision);
    expect(gw.listeners.map((l) => l.transport).sort()).toEqual(['tcp', 'tls', 'udp']);

    writeConfig({ ...cfg, server_domains: { fedA: { ...cfg.server_domains!.fedA!, cert: 'missing.pem' } } });
    const noCert = await gw.reload();
    expect(noCert.ok).toBe(false);
    if (!noCert.ok) expect(noCert.errors[0]).toMatch(/missing\.pem: cannot read: ENOENT/);
    // the TLS listener still serves the old certificate
    const again = await tlsClient(gw.listener('tls', 'fedA').port, pki.text.atlanta, pki.text.fedACa);
    expect((again.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN).toBe('gw.bastion.example');
    again.socket.destroy();

    // back to the original: the TCP listener is removed
    writeConfig(cfg);
    const back = await gw.reload();
    expect(back).toMatchObject({ ok: true, listeners: { removed: [expect.stringMatching(/^tcp /)] } });
    expect(back).toMatchObject({ tls: { reloaded: false } });

    // certificate rotation: new file contents under the same names are loaded by the next reload
    writeFileSync(pki.gwA.cert, readFileSync(pki.gwB.cert));
    writeFileSync(pki.gwA.key, readFileSync(pki.gwB.key));
    expect(await gw.reload()).toMatchObject({ ok: true, tls: { reloaded: true } });
    const rotated = await tlsClient(gw.listener('tls', 'fedA').port, pki.text.atlanta, pki.text.fedACa);
    expect((rotated.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.O).toBe('FedB');
    rotated.socket.destroy();

    // per-peer limits apply on reload: one request per ~17 minutes from an address, then 503
    writeConfig({ ...cfg, limits: { peers: { requests_per_ip: { rate: 0.001, burst: 1 } } } });
    expect(await gw.reload()).toMatchObject({ ok: true, restart_required: [] });
    await options(200);
    expect((await options(503)).get('retry-after')).toMatch(/^\d+$/);
    // and back: a changed limit starts every peer's budget afresh
    writeConfig(cfg);
    expect(await gw.reload()).toMatchObject({ ok: true, restart_required: [] });
    await options(200);

    const text = await (await get('/metrics')).text();
    expect(text).toMatch(/^sip_bastion_reloads_total [5-9]/m);
    expect(text).toMatch(/^sip_bastion_reloads_failed_total 2$/m);
    expect(text).toMatch(/^sip_bastion_limit_hits_total\{limit="requests_per_ip",action="reply_503"\} 1$/m);
    expect(logLines.filter((l) => l.msg === 'reload refused; the running configuration stays')).toHaveLength(2);
    expect(existsSync(file)).toBe(true);
  });
});
