// The interop topology, shared by the Kamailio interop test and the benchmark:
//   sipp UAC --udp--> Kamailio atlanta (fedA) --mTLS--> MIDDLE --mTLS--> Kamailio biloxi (fedB) --udp--> sipp UAS
// MIDDLE is sip-bastion (in this process, or as a child process for CPU figures) or Kamailio.
// sip-bastion has one TLS listener per federation: the server certificate is chosen by socket.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import pino, { type Logger } from 'pino';
import { makeInteropPki, type InteropPki } from './pki.js';
import { startKamailio, type RunningKamailio } from './kamailio.js';
import { freePort } from './ports.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { packageRoot, parseConfig, type GatewayConfig } from '../../src/gateway/config.js';
import { writeTestPolicy } from '../../src/gateway/testing/topology.js';

export type MiddleKind = 'bastion' | 'bastion-process' | 'kamailio';

export interface Topology {
  dir: string;
  pki: InteropPki;
  ports: { aUdp: number; aTls: number; bUdp: number; bTls: number; uac: number; uas: number; midA: number; midB: number };
  atlanta: RunningKamailio;
  biloxi: RunningKamailio;
  /** in-process gateway (middle 'bastion') */
  gateway?: Gateway;
  /** pid of the middle process (Kamailio's main process, or the gateway child) */
  middlePids: () => number[];
  middleKamailio?: RunningKamailio;
  /** stdout/stderr of the gateway child process (middle 'bastion-process') */
  childOutput: () => string;
  logLines: Record<string, unknown>[];
  stop: () => Promise<void>;
}

/** The gateway config for this topology (also written to <dir>/bastion.yaml for a child process). */
export function bastionConfig(t: Pick<Topology, 'pki' | 'ports'>, policyDir: string, opts: { decisions?: boolean; level?: string; hideFedB?: boolean; exemptEdges?: boolean } = {}): GatewayConfig {
  const { pki, ports } = t;
  const hide = opts.hideFedB ? { topology_hiding: true } : {};
  return {
    listen: [
      { transport: 'tls', address: '127.0.0.1', port: ports.midA, server_domain: 'fedA' },
      { transport: 'tls', address: '127.0.0.1', port: ports.midB, server_domain: 'fedB' },
    ],
    server_domains: {
      fedA: { cert: pki.gatewayA.cert, key: pki.gatewayA.key, ca: [pki.fedA.ca], verify: true, require: true },
      fedB: { cert: pki.gatewayB.cert, key: pki.gatewayB.key, ca: [pki.fedB.ca], verify: true, require: true, ...hide },
    },
    client_domains: {
      fedA: { cert: pki.gatewayA.cert, key: pki.gatewayA.key, ca: [pki.fedA.ca], destinations: [`127.0.0.1:${ports.aTls}`] },
      fedB: { cert: pki.gatewayB.cert, key: pki.gatewayB.key, ca: [pki.fedB.ca], destinations: [`127.0.0.1:${ports.bTls}`], ...hide },
    },
    policy: { path: policyDir },
    proxy: { local_names: ['gw.bastion.example'] },
    log: { level: opts.level ?? 'info', decisions: opts.decisions ?? true },
    // the edges carry every call of their federation from one address: past the per-address
    // request limits from about 30 calls/s
    ...(opts.exemptEdges ? { limits: { peers: { exempt: ['127.0.0.1'] } } } : {}),
  };
}

export interface TopologyOptions {
  /** sip-bastion's decision log (default on) */
  decisions?: boolean;
  /** Kamailio without per-request log lines (benchmark) */
  quiet?: boolean;
  /** extra node flags for the gateway child process (e.g. --cpu-prof) */
  nodeArgs?: string[];
  /** environment for the gateway child process */
  env?: Record<string, string>;
  /**
   * topology hiding towards federation B (its server and client domain), calls routed to
   * atlanta.example too (the reverse direction), and Kamailio biloxi logging every message it
   * receives over TLS
   */
  hideFedB?: boolean;
  /** the Kamailio edges exempt from sip-bastion's per-peer limits (load benchmarks) */
  exemptEdges?: boolean;
}

export async function startTopology(dir: string, middle: MiddleKind, opts: TopologyOptions = {}): Promise<Topology> {
  mkdirSync(dir, { recursive: true });
  const pki = await makeInteropPki(join(dir, 'pki'));
  const [aUdp, aTls, bUdp, bTls, uac, uas, midA, midB] = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  const ports = { aUdp, aTls, bUdp, bTls, uac, uas, midA, midB };
  const logLines: Record<string, unknown>[] = [];
  let gateway: Gateway | undefined;
  let child: ChildProcess | undefined;
  let middleKamailio: RunningKamailio | undefined;
  let out = '';

  if (middle === 'kamailio') {
    middleKamailio = await startKamailio({
      role: 'middle',
      name: 'middle',
      quiet: opts.quiet,
      dir: join(dir, 'middle'),
      servers: [
        { port: midA, cert: pki.gatewayA.cert, key: pki.gatewayA.key, ca: pki.fedA.ca },
        { port: midB, cert: pki.gatewayB.cert, key: pki.gatewayB.key, ca: pki.fedB.ca },
      ],
      clients: [
        { id: 'biloxi', host: '127.0.0.1', port: bTls, cert: pki.gatewayB.cert, key: pki.gatewayB.key, ca: pki.fedB.ca },
        { id: 'atlanta', host: '127.0.0.1', port: aTls, cert: pki.gatewayA.cert, key: pki.gatewayA.key, ca: pki.fedA.ca },
      ],
      routes: [{ domain: 'biloxi.example', to: { host: '127.0.0.1', port: bTls }, sendPort: midB }],
    });
  } else {
    const policyDir = writeTestPolicy(join(dir, 'policy'), { host: '127.0.0.1', port: bTls }, opts.hideFedB ? { 'atlanta.example': `sips:127.0.0.1:${aTls}` } : {});
    const cfg = bastionConfig({ pki, ports }, policyDir, { decisions: opts.decisions, hideFedB: opts.hideFedB, exemptEdges: opts.exemptEdges });
    if (middle === 'bastion') {
      const logger: Logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
      gateway = await Gateway.start(parseConfig(JSON.stringify(cfg), 'interop', dir), { logger });
    } else {
      const file = join(dir, 'bastion.json');
      writeFileSync(file, JSON.stringify({ ...cfg, log: { ...cfg.log, file: join(dir, 'bastion.log') } }, null, 2));
      // the same V8 flag as `bastion run` (bin/bastion.js re-executes itself with it)
      const semi = (opts.nodeArgs ?? []).some((a) => a.startsWith('--max-semi-space-size')) ? [] : ['--max-semi-space-size=32'];
      child = spawn(process.execPath, [...semi, ...(opts.nodeArgs ?? []), '--import', 'tsx', join(packageRoot(), 'test', 'interop', 'run-bastion.ts'), 'run', '--config', file], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } });
      child.stdout?.on('data', (d) => (out += d));
      child.stderr?.on('data', (d) => (out += d));
      // ready when both TLS listeners accept connections
      const { connect } = await import('node:net');
      const deadline = Date.now() + 180_000;
      for (;;) {
        const up = await new Promise<boolean>((r) => {
          const s = connect(midB, '127.0.0.1');
          s.once('connect', () => (s.destroy(), r(true)));
          s.once('error', () => r(false));
        });
        if (up) break;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`bastion did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  const atlanta = await startKamailio({
    role: 'edge',
    name: 'atlanta',
    quiet: opts.quiet,
    dir: join(dir, 'atlanta'),
    udpPort: aUdp,
    tlsPort: aTls,
    tls: { cert: pki.atlanta.cert, key: pki.atlanta.key, ca: pki.fedA.ca },
    tlsNextHop: { host: '127.0.0.1', port: midA },
    udpNextHop: { host: '127.0.0.1', port: uac },
  });
  const biloxi = await startKamailio({
    role: 'edge',
    name: 'biloxi',
    quiet: opts.quiet,
    dir: join(dir, 'biloxi'),
    udpPort: bUdp,
    tlsPort: bTls,
    tls: { cert: pki.biloxi.cert, key: pki.biloxi.key, ca: pki.fedB.ca },
    tlsNextHop: { host: '127.0.0.1', port: midB },
    udpNextHop: { host: '127.0.0.1', port: uas },
    logTlsMessages: opts.hideFedB,
  });

  return {
    dir,
    pki,
    ports,
    atlanta,
    biloxi,
    gateway,
    middleKamailio,
    logLines,
    childOutput: () => out,
    middlePids: () => (middle === 'kamailio' ? [middleKamailio!.process.pid!] : middle === 'bastion-process' ? [child!.pid!] : [process.pid]),
    stop: async () => {
      await atlanta.stop();
      await biloxi.stop();
      await middleKamailio?.stop();
      await gateway?.stop();
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child!.once('exit', r));
      }
    },
  };
}
