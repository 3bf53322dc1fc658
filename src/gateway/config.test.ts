import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, parseConfig, validateConfig } from './config.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gateway, GatewayStartError, restartRequired } from './gateway.js';
import { UdpPeer, isResp } from './testing/peer.js';

describe('config', () => {
  it('the embedded default is valid and listens on 5061 TLS, 5060 UDP and TCP', () => {
    const { config } = loadConfig();
    expect(config.listen).toEqual([
      { transport: 'tls', address: '127.0.0.1', port: 5061, server_domain: 'default' },
      { transport: 'udp', address: '127.0.0.1', port: 5060 },
      { transport: 'tcp', address: '127.0.0.1', port: 5060 },
    ]);
    expect(config.policy.path).toBe('policies');
    expect(readFileSync(DEFAULT_CONFIG_FILE(), 'utf8')).toContain('dev_pki');
  });

  it('errors name the path of each problem', () => {
    const problems = validateConfig({
      listen: [{ transport: 'tls', port: 70000 }, { transport: 'sctp', port: 1 }],
      server_domains: { a: { cert: 'x.pem' } },
      policy: { path: 'p', bundle: 'b.tar.gz' },
      limits: { max_message_bytes: 10, bogus: 1 },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        '/listen/0/port: must be <= 65535',
        '/listen/0: missing property "server_domain"',
        expect.stringMatching(/^\/listen\/1\/transport: must be one of/),
        '/server_domains/a: missing property "key"',
        '/policy: give exactly one of "path", "bundle" or "url"',
        '/limits: unknown property "bogus"',
        '/limits/max_message_bytes: must be >= 1024',
      ]),
    );
  });

  it('TLS profiles are the TLS edge schema: its settings (ocsp) pass, and its errors name the path', () => {
    const base = { listen: [{ transport: 'udp', port: 5060 }], policy: { path: 'p' } };
    expect(validateConfig({ ...base, server_domains: { a: { cert: 'c.pem', key: 'k.pem', ocsp: { responder: true, require: true } } } })).toEqual([]);
    expect(validateConfig({ ...base, client_domains: { b: { ocsp: { stapling: 'yes' } } } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\/client_domains\/b\/ocsp\/stapling: must be boolean/)]),
    );
  });

  it('a listener naming an unknown server domain is refused', () => {
    expect(() => parseConfig('listen: [{transport: tls, port: 0, server_domain: nope}]\npolicy: {path: p}\n', 'x.yaml', '.')).toThrow(ConfigError);
    try {
      parseConfig('listen: [{transport: tls, port: 0, server_domain: nope}]\npolicy: {path: p}\n', 'x.yaml', '.');
    } catch (e) {
      expect((e as ConfigError).problems).toEqual(['/listen/0/server_domain: no server domain named "nope"']);
    }
  });

  it('a UDP or TCP listener with a server_domain is refused (errors under "not" are never dropped)', () => {
    const base = { server_domains: { d: { cert: 'c.pem', key: 'k.pem' } }, policy: { path: 'p' } };
    expect(validateConfig({ ...base, listen: [{ transport: 'udp', port: 5060, server_domain: 'd' }] })).toEqual([
      '/listen/0/server_domain: not allowed here (only a TLS listener takes a server_domain)',
    ]);
    expect(validateConfig({ ...base, listen: [{ transport: 'tls', port: 5061, server_domain: 'd' }, { transport: 'tcp', port: 5060, server_domain: 'd' }] })).toEqual([
      '/listen/1/server_domain: not allowed here (only a TLS listener takes a server_domain)',
    ]);
  });

  it('the admin listener: loopback may go without a token; any other address needs a token or mutual TLS', () => {
    const base = { listen: [{ transport: 'udp', port: 5060 }], policy: { path: 'p' } };
    expect(validateConfig({ ...base, admin: { port: 8061 } })).toEqual([]);
    expect(validateConfig({ ...base, admin: { address: '127.0.0.1', port: 8061 } })).toEqual([]);
    expect(validateConfig({ ...base, admin: { address: '::1', port: 8061 } })).toEqual([]);
    const open = '/admin: an admin listener on 0.0.0.0 (not loopback) needs token_file (a bearer token) or tls with ca (mutual TLS)';
    expect(validateConfig({ ...base, admin: { address: '0.0.0.0', port: 8061 } })).toEqual([open]);
    // TLS without a client CA is encryption, not authentication
    expect(validateConfig({ ...base, admin: { address: '0.0.0.0', tls: { cert: 'c', key: 'k' } } })).toEqual([open]);
    expect(validateConfig({ ...base, admin: { address: '0.0.0.0', token_file: 'admin.token' } })).toEqual([]);
    expect(validateConfig({ ...base, admin: { address: '10.1.2.3', tls: { cert: 'c', key: 'k', ca: ['ca.pem'] } } })).toEqual([]);
    expect(validateConfig({ ...base, admin: { address: 'localhost' } })).toEqual(expect.arrayContaining(['/admin/address: must match format "ipv4"']));
  });

  it('decision-log settings: rotation needs a file, sampling rates are fractions, uploads need an http(s) URL', () => {
    const base = { listen: [{ transport: 'udp', port: 5060 }], policy: { path: 'p' } };
    expect(validateConfig({ ...base, log: { rotate: { size: '100m' } } })).toEqual(['/log/rotate: needs log.file (the file to roll)']);
    expect(validateConfig({ ...base, log: { file: 'x.log', rotate: { size: '100m', frequency: 'daily', keep: 7 }, sample: { OPTIONS: 0.01, '*': 1 } } })).toEqual([]);
    expect(validateConfig({ ...base, log: { sample: { OPTIONS: 2 } } })).toEqual(['/log/sample/OPTIONS: must be <= 1']);
    expect(validateConfig({ ...base, log: { upload: { url: 'ftp://x/' } } })).toEqual([expect.stringMatching(/^\/log\/upload\/url: /)]);
    expect(validateConfig({ ...base, log: { upload: { url: 'http://127.0.0.1:9/', min_delay_seconds: 5, max_delay_seconds: 1 } } })).toEqual(['/log/upload/max_delay_seconds: must be >= min_delay_seconds']);
  });

  it('per-peer limits: malformed entries are schema errors naming the path', () => {
    const base = { listen: [{ transport: 'udp', port: 5060 }], policy: { path: 'p' } };
    const peers = (p: unknown, more: Record<string, unknown> = {}) => validateConfig({ ...base, limits: { peers: p, ...more } });
    expect(peers({ requests_per_ip: { rate: 50, burst: 100 }, requests_per_identity: false, exempt: ['10.0.0.0/8'] }, { write_queue_bytes: 65536, send_timeout_ms: 2000 })).toEqual([]);
    expect(peers({ requests_per_ip: { rate: 0, burst: 5 } })).toEqual(['/limits/peers/requests_per_ip/rate: must be > 0']);
    expect(peers({ requests_per_ip: { rate: 5 } })).toEqual(['/limits/peers/requests_per_ip: missing property "burst"']);
    expect(peers({ requests_per_ip: true })).toEqual(['/limits/peers/requests_per_ip: must be false or an object']);
    expect(peers({ requests_per_identity: { rate: 1, burst: 1, key: 'cn' } })).toEqual([expect.stringMatching(/^\/limits\/peers\/requests_per_identity\/key: must be one of \["subject","fingerprint"\]/)]);
    expect(peers({ connections_per_ip: { rate: 1, burst: 1, max_open: 0 } })).toEqual(['/limits/peers/connections_per_ip/max_open: must be >= 1']);
    expect(peers({ tls_handshakes_per_ip: { rate: 1, burst: 1.5 } })).toEqual(['/limits/peers/tls_handshakes_per_ip/burst: must be integer']);
    expect(peers({ replies_per_ip: false })).toEqual(['/limits/peers/replies_per_ip: must be object']);
    expect(peers({ requests_per_second: 5 })).toEqual(['/limits/peers: unknown property "requests_per_second"']);
    expect(peers({ exempt: ['10.0.0.0/33', 'gw.example'] })).toEqual([
      '/limits/peers/exempt/0: "10.0.0.0/33" has an invalid prefix length',
      '/limits/peers/exempt/1: "gw.example" is not an IP address or CIDR block',
    ]);
    expect(peers({}, { write_queue_bytes: 10 })).toEqual(['/limits/write_queue_bytes: must be >= 4096']);
  });

  it('YAML syntax errors are reported as such', () => {
    expect(() => parseConfig('listen: [\n', 'bad.yaml', '.')).toThrow(/bad.yaml: invalid configuration:\n  not valid YAML/);
  });
});

describe('reload: what applies live', () => {
  it('listeners, TLS domains, policy source, limits and log level apply; proxy, admin, entrypoint and log file wait for a restart', () => {
    const a = { listen: [{ transport: 'udp' as const, port: 5060 }], policy: { path: 'p', entrypoint: 'sip/decision' }, log: { level: 'info', file: 'a.log' }, admin: { port: 8061 } };
    expect(restartRequired(a, a)).toEqual([]);
    expect(
      restartRequired(a, {
        ...a,
        listen: [{ transport: 'tcp', port: 5060 }],
        policy: { path: 'q', entrypoint: 'sip/decision' },
        limits: { max_message_bytes: 4096, write_queue_bytes: 8192, send_timeout_ms: 500, peers: { requests_per_ip: { rate: 5, burst: 10 }, exempt: ['192.0.2.0/24'] } },
        log: { level: 'debug', file: 'a.log' },
      }),
    ).toEqual([]);
    expect(restartRequired(a, { ...a, policy: { path: 'p', entrypoint: 'other/decision' }, log: { level: 'info', file: 'b.log' }, admin: { port: 9000 }, proxy: { max_forwards: 10 } })).toEqual([
      '/policy/entrypoint',
      '/log/file',
      '/admin',
      '/proxy',
    ]);
  });
});

describe('honest startup', () => {
  it('a policy that cannot be loaded stops the start, saying why', async () => {
    const loaded = parseConfig(JSON.stringify({ listen: [{ transport: 'udp', port: 0 }], policy: { path: '/nonexistent/policy' } }), 'inline', '.');
    const lines: Record<string, unknown>[] = [];
    const err = await Gateway.start(loaded, { logger: pino({}, { write: (s: string) => void lines.push(JSON.parse(s)) }) }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(GatewayStartError);
    expect(err!.message).toMatch(/no policy could be loaded:\n {2}\/nonexistent\/policy: not a directory/);
  });

  it('a policy from a bundle URL: runs not ready, every request rejected with 500 (nothing forwarded), until the first bundle', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle.tar.gz`;
    const loaded = parseConfig(JSON.stringify({ listen: [{ transport: 'udp', port: 0 }], policy: { url }, log: { decisions: true } }), 'inline', '.');
    const lines: Record<string, unknown>[] = [];
    const gw = await Gateway.start(loaded, { logger: pino({}, { write: (s: string) => void lines.push(JSON.parse(s)) }) });
    try {
      expect(gw.readiness()).toEqual({ ready: false, reasons: ['no policy in force: waiting for the first bundle from the bundle server'] });
      const u = new UdpPeer();
      await u.bind();
      const port = gw.listener('udp').port;
      u.send(
        [`OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${u.port};branch=z9hG4bK-fc`, 'From: <sip:a@b.example>;tag=1', `To: <sip:127.0.0.1:${port}>`, 'Call-ID: fc-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
        port,
      );
      const r = await u.inbox.wait(isResp(500), '500');
      expect(r.reason).toBe('Policy Error');
      expect(lines.find((l) => l.msg === 'decision')).toMatchObject({ failure: { kind: 'no_policy' }, decision: { allow: false } });
      expect(lines.some((l) => l.msg === 'no policy yet: not ready, every message fails closed until the first bundle arrives')).toBe(true);
      u.close();
    } finally {
      await gw.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
