// TLS edge benchmark (figures printed, never asserted):
//  1. full mutual-TLS handshakes per second and server CPU per handshake, our server vs
//     `openssl s_server`, same certificates, same load generator (`openssl s_time -new`, mTLS),
//     same box, same run; server CPU read from /proc/<pid>/stat for both;
//  2. the CPU cost of building one peer-identity document, verification included (cold: the
//     certificates parsed and signatures checked again; cached), 3-cert chain.
// Run: npx tsx bench/tls-handshake.ts [seconds per run, default 3] [rounds, default 3]
import { spawn, fork, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tls from 'node:tls';
import * as net from 'node:net';
import { CertificateAuthority, type IssuedCertificate } from '../src/tls/pki/index.js';
import { TempDir, listen, close } from '../src/tls/testkit.js';
import { TlsContextRegistry, createTlsServer, buildIdentity } from '../src/tls/index.js';
import { clearCertInfoCache as clearDocCache } from '../src/tls/certinfo.js';
import { clearVerifierCaches } from '../src/tls/verify/index.js';

/** A peer never seen before: its certificates parsed and its signatures verified again. */
function clearCertInfoCache(): void {
  clearDocCache();
  clearVerifierCaches();
}

const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 3);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function waitFor(p: ChildProcess, re: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    p[stream]!.on('data', (d) => {
      buf += d;
      const m = re.exec(buf);
      if (m) resolve(m);
    });
    p.on('exit', (c) => reject(new Error(`process exited (${c}) before ${re}: ${buf}`)));
  });
}

/** Node mTLS load generator: `concurrency` clients, each handshaking, closing and starting over. */
async function load(port: number, pki: { cert: string; key: string; ca: string }, concurrency = 8, runSeconds = seconds): Promise<{ connections: number; seconds: number; failed: number }> {
  let connections = 0;
  let failed = 0;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + runSeconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const c = tls.connect({ host: '127.0.0.1', port, cert: pki.cert, key: pki.key, ca: [pki.ca], servername: 'gw.bench.example', checkServerIdentity: () => undefined });
      c.on('secureConnect', () => {
        connections++;
        c.end();
      });
      c.on('error', () => {
        failed++;
        resolve();
      });
      c.on('close', () => resolve());
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) await one();
    }),
  );
  return { connections, failed, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * CPU µs of buildIdentity on fresh connections presenting `peer` (the first call on each connection,
 * as in the server: Node and OpenSSL cache per connection, so repeating calls on one socket would
 * understate it), with the JIT warmed first as on a busy server. Median over `n` connections, half with the parse cache emptied first (cold), half
 * with it warm (cached); also Node's getPeerCertificate(true) alone, for comparison.
 */
async function identityCost(baseDir: string, ca: string, peer: IssuedCertificate, rootPem: string, n = 120): Promise<{ cold: number; warm: number; fullWalk: number }> {
  const reg = await TlsContextRegistry.load({ server_domains: { bench: { cert: 'server.pem', key: 'server.key', ca: [ca], crl: ['root.crl'], cn_map: 'cn.map' } } }, { baseDir });
  const domain = reg.serverDomain('bench');
  const cold: number[] = [];
  const warm: number[] = [];
  const full: number[] = [];
  let i = 0;
  let wake = () => {};
  const srv = createTlsServer({
    registry: reg,
    domain: 'bench',
    onConnection: (socket, identity) => {
      if (!identity.verified || identity.chain?.length !== 3) throw new Error(`bench peer not verified as expected: ${identity.verify_error}`);
      socket.destroy();
      wake();
    },
  });
  // Measure inside the secureConnection event, before the server's own handler builds a document.
  let warmedUp = false;
  srv.prependListener('secureConnection', (socket: tls.TLSSocket) => {
    if (!warmedUp) {
      // A busy server has its JavaScript optimised: warm the JIT on this first connection (parse
      // path included), then measure first calls on the fresh connections that follow.
      warmedUp = true;
      for (let w = 0; w < 3000; w++) {
        if (w % 2) clearCertInfoCache();
        buildIdentity(socket, domain);
      }
      return;
    }
    const kind = i++ % 3;
    if (kind === 0) clearCertInfoCache();
    const t = cpuMicros();
    if (kind === 2) socket.getPeerCertificate(true);
    else buildIdentity(socket, domain);
    (kind === 0 ? cold : kind === 1 ? warm : full).push(cpuMicros() - t);
  });
  const port = await listen(srv);
  for (let k = 0; k < n * 3 + 1; k++) {
    const done = new Promise<void>((r) => (wake = r));
    const c = tls.connect({ host: '127.0.0.1', port, cert: peer.chainPem, key: peer.keyPem, ca: [rootPem], servername: 'gw.bench.example', checkServerIdentity: () => undefined });
    c.on('error', () => {});
    await done;
    c.destroy();
  }
  await close(srv);
  const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
  return { cold: median(cold.slice(5)), warm: median(warm.slice(5)), fullWalk: median(full.slice(5)) };
}

async function main(): Promise<void> {
  const dir = new TempDir();
  try {
    const root = await CertificateAuthority.createRoot({ subject: 'CN=Bench Root, O=Bench' });
    const server = await root.issue({ subject: 'CN=gw.bench.example', san: { dns: ['gw.bench.example'], uri: ['sip:bench.example'] } });
    const client = await root.issue({ subject: 'CN=peer.bench.example, O=Bench', san: { dns: ['peer.bench.example'], uri: ['sip:peer.bench.example'] } });
    dir.write('root.pem', root.certPem);
    dir.writeCert('server', server);
    dir.writeCert('client', client);
    dir.write('root.crl', (await root.crl()).pem);
    dir.write('cn.map', 'peer.bench.example\tpeer.bench.example\n');
    console.log(`# TLS handshake benchmark: ECDSA P-256, mutual TLS, ${rounds} rounds of ${seconds}s per server, load: 8 concurrent Node mTLS clients (TLS 1.3, no resumption)`);

    // Both servers stay up; the load alternates between them for `rounds` rounds, so that other
    // activity on the box colours both alike; figures are per server over all rounds, plus the
    // best (lowest) per-round CPU ratio.
    const pki = { cert: client.chainPem, key: client.keyPem, ca: root.certPem };
    const port0 = await freePort();
    const ossl = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port0}`, '-cert', `${dir.path}/server.pem`, '-key', `${dir.path}/server.key`, '-CAfile', `${dir.path}/root.pem`, '-Verify', '4', '-quiet', '-no_ticket'], { stdio: ['pipe', 'pipe', 'pipe'] });
    ossl.stdout.resume();
    ossl.stderr.resume();
    await waitPort(port0);
    const child = fork(fileURLToPath(new URL('./tls-server-child.ts', import.meta.url)), [
      JSON.stringify({ baseDir: dir.path, domains: { server_domains: { bench: { cert: 'server.pem', key: 'server.key', ca: ['root.pem'], crl: ['root.crl'], cn_map: 'cn.map', verify: true, require: true, session_tickets: false } } } }),
    ], { execArgv: ['--import', 'tsx'], stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
    const ourPort = Number((await waitFor(child, /PORT (\d+)/))[1]);
    await load(ourPort, pki, 8, 0.5); // warm-up (JIT) of ours, not counted
    const total = { ossl: { connections: 0, seconds: 0, failed: 0, cpu: 0 }, ours: { connections: 0, seconds: 0, failed: 0, cpu: 0 } };
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const c0 = cpuSeconds(ossl.pid!);
      const r1 = await load(port0, pki);
      const cpu1 = cpuSeconds(ossl.pid!) - c0;
      const c1 = cpuSeconds(child.pid!);
      const r2 = await load(ourPort, pki);
      const cpu2 = cpuSeconds(child.pid!) - c1;
      for (const [t, r, cpu] of [[total.ossl, r1, cpu1], [total.ours, r2, cpu2]] as const) {
        t.connections += r.connections;
        t.seconds += r.seconds;
        t.failed += r.failed;
        t.cpu += cpu;
      }
      ratios.push(cpu2 / r2.connections / (cpu1 / r1.connections));
    }
    ossl.kill();
    const stats = await new Promise<{ accepted: number; refused: number }>((r) => {
      child.once('message', (m) => r(m as { accepted: number; refused: number }));
      child.send('stats');
    });
    child.send('stop');

    const row = (name: string, r: { connections: number; seconds: number; cpu: number }) =>
      `${name.padEnd(16)} ${(r.connections / r.seconds).toFixed(0).padStart(7)} hs/s   ${((r.cpu / r.connections) * 1e3).toFixed(3).padStart(7)} ms CPU/hs   (${r.connections} handshakes, ${r.cpu.toFixed(2)} s CPU)`;
    console.log(`(client-side failures: openssl ${total.ossl.failed}, ours ${total.ours.failed})`);
    console.log(row('openssl s_server', total.ossl));
    console.log(row('bastion (ours)', total.ours));
    const overall = total.ours.cpu / total.ours.connections / (total.ossl.cpu / total.ossl.connections);
    console.log(`CPU ratio ours/openssl: ${overall.toFixed(2)}x over ${rounds} rounds (per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; goal <= 1.5x); our server verified ${stats.accepted}, refused ${stats.refused}`);

    // --- identity document cost, in process, on live connections: a 3-certificate chain (peer,
    // intermediate, root), the peer sending its intermediate; the domain trusting the root only
    // (the intermediate comes from the peer: Node's getPeerCertificate(true) is needed) or the root
    // and the intermediate (the chain is completed from the CA list). CPU time, not wall time.
    const issuing = await root.createIntermediate({ subject: 'CN=Bench Issuing, O=Bench' });
    const peer3 = await issuing.issue({ subject: 'CN=peer3.bench.example, O=Bench', san: { uri: ['sip:peer3.bench.example'] } });
    dir.write('root+issuing.pem', root.certPem + issuing.certPem);
    for (const [label, ca] of [['CA list = root', 'root.pem'], ['CA list = root + intermediate', 'root+issuing.pem']] as const) {
      const r = await identityCost(dir.path, ca, peer3, root.certPem);
      console.log(`identity document, 3-cert chain, ${label}: ${r.cold.toFixed(0)} µs CPU cold (certificates parsed), ${r.warm.toFixed(0)} µs cached; medians per new connection (getPeerCertificate(true) alone: ${r.fullWalk.toFixed(0)} µs)`);
    }
  } finally {
    dir.remove();
  }
}

await main();
