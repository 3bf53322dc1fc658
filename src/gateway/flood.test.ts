// The proof under load, bounded: the gateway with the limits of the embedded default config
// (config/default.yaml), a flooder on 127.0.0.2 and a legitimate peer on 127.0.0.3, each in a
// process of its own (src/limits/testing/peer-process.ts).
//  - UDP: the flooder sends OPTIONS and INVITE as fast as it can for 10 s while the peer sends
//    20 OPTIONS/s (retransmitting as RFC 3261 Timer E);
//  - TLS: the flooder opens 2,000 connections (full handshakes) while a partner sends 20
//    OPTIONS/s on the connection it opened before.
// Each time: at least 99 % of the legitimate requests are answered within 1 s, the flooder is
// mostly limited, and the gateway's memory stays bounded. The figures are printed; the
// benchmark (bench/border-flood.ts) measures the same on `bastion run` with CPU and a profile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { Gateway } from './gateway.js';
import { packageRoot, type GatewayConfig } from './config.js';
import { makePki, topologyConfig, writeTestPolicy, type TestPki } from './testing/topology.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';
import { runPeer } from '../limits/testing/peer-process.js';
import { percentile, type FloodResult, type HandshakeFloodResult, type LegitResult } from '../limits/testing/load-peers.js';

const ready = await compilerReady();
const defaults = YAML.parse(readFileSync(join(packageRoot(), 'config', 'default.yaml'), 'utf8')) as GatewayConfig;
const perIp = defaults.limits!.peers!.requests_per_ip as { rate: number; burst: number };

describe.skipIf(!ready)('under a flood, with the default config\'s limits', () => {
  let pki: TestPki;
  let gw: Gateway;
  let logLines = 0;
  const limitLines: Record<string, unknown>[] = [];
  const kills = new Set<() => void>();

  beforeAll(async () => {
    pki = await makePki();
    const policyDir = writeTestPolicy(join(pki.dir.path, 'policy'), { host: '127.0.0.1', port: 9 });
    const loaded = topologyConfig(pki, policyDir, {}, { limits: defaults.limits, log: { level: 'info', decisions: true } });
    // every line is written as the default config writes it (a decision line per request), only
    // the limit lines are kept
    const logger = pino({ level: 'info' }, {
      write: (s: string) => {
        logLines++;
        if (s.includes('"msg":"limit: ')) limitLines.push(JSON.parse(s));
      },
    });
    gw = await Gateway.start(loaded, { logger });
  }, 300_000); // the policy compiles at start: slow on a busy machine

  afterAll(async () => {
    for (const k of kills) k();
    await gw?.stop();
    pki?.dir.remove();
  });

  /** the process's RSS in MB, sampled every 100 ms until stopped: [before, max] */
  const rssSampler = () => {
    const mb = () => process.memoryUsage().rss / 1048576;
    const start = mb();
    let max = start;
    const t = setInterval(() => (max = Math.max(max, mb())), 100);
    return () => (clearInterval(t), [start, max] as const);
  };
  const peer = <T>(kind: Parameters<typeof runPeer>[0], o: Record<string, unknown>) => runPeer<T>(kind, o, (k) => kills.add(k));
  const share = (r: LegitResult) => r.within1s / r.sent;
  const figures = (r: LegitResult) =>
    `${r.sent} sent, ${r.within1s} answered within 1 s (${(share(r) * 100).toFixed(1)} %), ${r.answered} in all; p50 ${percentile(r.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(r.latenciesMs, 99).toFixed(1)} ms`;

  it('UDP: OPTIONS and INVITE as fast as the flooder can for 10 s; the peer sending 20/s gets 99 % answered within 1 s', async () => {
    const port = gw.listener('udp').port;
    // warm-up from another address: the policy's first evaluations, the JIT
    await peer<LegitResult>('legitUdp', { from: '127.0.0.4', port, rate: 20, seconds: 1, graceMs: 10_000 });
    const before = gw.border.limiter.snapshot();
    const rss = rssSampler();
    const [flood, legit] = await Promise.all([
      peer<FloodResult>('udpFlood', { from: '127.0.0.2', port, seconds: 10 }),
      peer<LegitResult>('legitUdp', { from: '127.0.0.3', port, rate: 20, seconds: 10, graceMs: 10_000 }),
    ]);
    const [rss0, rssMax] = rss();
    const after = gw.border.limiter.snapshot();
    const checked = after.requests_checked - before.requests_checked;
    const limited = after.requests_rejected - before.requests_rejected + (after.requests_dropped - before.requests_dropped);
    // what passed the limits: the legitimate peer's datagrams and the flooder's burst
    const floodAdmitted = checked - limited - legit.transmissions;
    console.log(
      `UDP flood: ${flood.sent} requests in ${flood.seconds.toFixed(1)} s (${Math.round(flood.sent / flood.seconds)}/s), answered ${JSON.stringify(flood.replies)}; ` +
        `gateway read ${checked} requests, limited ${limited}, admitted at most ${floodAdmitted} of the flooder's; legitimate peer: ${figures(legit)}; RSS ${rss0.toFixed(0)} → max ${rssMax.toFixed(0)} MB; ${limitLines.length} limit lines`,
    );
    // the legitimate peer: 99 % within 1 s, and every request answered in the end
    expect(share(legit)).toBeGreaterThanOrEqual(0.99);
    expect(legit.answered).toBe(legit.sent);
    // the flooder is mostly limited: the gateway served at most its first burst and a little more,
    // refused or dropped nearly all it read, and answered it a few 503s
    expect(flood.sent).toBeGreaterThan(5000);
    expect(floodAdmitted).toBeLessThanOrEqual(2 * perIp.burst);
    expect(limited).toBeGreaterThanOrEqual(0.9 * (checked - legit.transmissions));
    expect(flood.replies['503'] ?? 0).toBeGreaterThanOrEqual(1);
    // bounded memory, and one log line per peer and interval, not per request
    expect(rssMax - rss0).toBeLessThan(128);
    expect(limitLines.filter((l) => l.peer === '127.0.0.2').length).toBeLessThanOrEqual(4);
    expect(limitLines.filter((l) => l.peer === '127.0.0.3')).toEqual([]);
  }, 120_000);

  it('TLS: 2,000 handshakes from one address; the partner sending 20/s on its connection gets 99 % answered within 1 s', async () => {
    const port = gw.listener('tls', 'fedA').port;
    const before = gw.border.limiter.snapshot();
    const rss = rssSampler();
    const [hs, legit] = await Promise.all([
      peer<HandshakeFloodResult>('tlsHandshakeFlood', { from: '127.0.0.2', port, count: 2000, concurrency: 50 }),
      peer<LegitResult & { connectionLost: boolean }>('legitTls', { from: '127.0.0.3', port, rate: 20, seconds: 10, cert: pki.text.atlanta, graceMs: 10_000 }),
    ]);
    const [rss0, rssMax] = rss();
    const after = gw.border.limiter.snapshot();
    const refused = after.connections_refused_rate - before.connections_refused_rate + (after.handshakes_refused - before.handshakes_refused) + (after.connections_refused_open - before.connections_refused_open);
    console.log(`TLS flood: ${hs.attempted} connections in ${hs.seconds.toFixed(1)} s, ${hs.completed} handshakes completed, ${refused} refused before any TLS; partner: ${figures(legit)}; RSS ${rss0.toFixed(0)} → max ${rssMax.toFixed(0)} MB`);
    expect(legit.connectionLost).toBe(false);
    expect(share(legit)).toBeGreaterThanOrEqual(0.99);
    expect(legit.answered).toBe(legit.sent);
    // the flooder: its burst and rate of connections, the rest refused before any TLS work
    expect(hs.attempted).toBe(2000);
    expect(refused).toBeGreaterThanOrEqual(2000 - hs.completed);
    expect(hs.completed).toBeLessThan(1000);
    expect(rssMax - rss0).toBeLessThan(128);
  }, 120_000);
});
