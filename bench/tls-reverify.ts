// Re-verification of open connections after a reload (figures printed, never asserted): N real
// mutual-TLS connections (ECDSA P-256, peer + intermediate, root in the CA list) to one server
// domain; their identity documents are verified again against the domain as reloaded with a new
// CRL (one peer revoked), as the gateway does on SIGHUP / POST /reload (src/gateway/reverify.ts):
//  1. per connection, reverifyIdentity() alone (CPU, median of the per-connection times);
//  2. the whole pass (reverifyConnections: slices of 64 with the event loop free between them),
//     wall time and per connection.
// Run: npx tsx bench/tls-reverify.ts [connections, default 500]
import * as tls from 'node:tls';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { CertificateAuthority, type IssuedCertificate } from '../src/tls/pki/index.js';
import { TempDir, listen, close } from '../src/tls/testkit.js';
import { TlsContextRegistry, createTlsServer, reverifyIdentity, type PeerIdentity } from '../src/tls/index.js';
import { reverifyConnections } from '../src/gateway/reverify.js';
import type { StreamFlow } from '../src/gateway/flow.js';

const n = Number(process.argv[2] ?? 500);
const key = { type: 'ec', curve: 'P-256' } as never;

const dir = new TempDir();
const root = await CertificateAuthority.createRoot({ subject: 'CN=Bench Root, O=Lab', key });
const inter = await root.createIntermediate({ subject: 'CN=Bench Issuing, O=Lab', key });
const gw = await root.issue({ subject: 'CN=gw.bench.example', san: { dns: ['gw.bench.example'] }, usage: 'server', key });
const peers: IssuedCertificate[] = [];
for (let i = 0; i < 20; i++) peers.push(await inter.issue({ subject: `CN=peer${i}.bench.example`, usage: 'client', key }));
dir.writeCert('gw', gw);
dir.write('root.pem', root.certPem);
const crl = dir.write('inter.crl', (await inter.crl()).pem);
const cfg = { server_domains: { d: { cert: 'gw.pem', key: 'gw.key', ca: ['root.pem'], crl: [crl], require: true } } };
const registry = await TlsContextRegistry.load(cfg, { baseDir: dir.path });

const identities: PeerIdentity[] = [];
const sockets: tls.TLSSocket[] = [];
const server = createTlsServer({ registry, domain: 'd', onConnection: (s, id) => (identities.push(id), sockets.push(s)) });
const port = await listen(server);
const clients: tls.TLSSocket[] = [];
for (let i = 0; i < n; i++) {
  const p = peers[i % peers.length]!;
  clients.push(
    await new Promise<tls.TLSSocket>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port, cert: p.chainPem, key: p.keyPem, ca: [root.certPem], rejectUnauthorized: false }, () => resolve(c));
      c.on('error', reject);
    }),
  );
}
while (identities.length < n) await new Promise((r) => setTimeout(r, 10));

// the reload: one peer revoked, the CRL file replaced, the domain loaded again
inter.revoke(peers[0]!);
writeFileSync(crl, (await inter.crl()).pem);
await registry.reload();
const domain = registry.serverDomain('d');

const times: number[] = [];
let revoked = 0;
for (const id of identities) {
  const t0 = process.cpuUsage();
  const again = reverifyIdentity(id, domain);
  const dt = process.cpuUsage(t0);
  times.push(dt.user + dt.system);
  if (again?.verify_error === 'CERT_REVOKED') revoked++;
}
times.sort((a, b) => a - b);
const med = times[Math.floor(times.length / 2)]!;
const p95 = times[Math.floor(times.length * 0.95)]!;

const flows = identities.map((identity, i) => ({ id: i, transport: 'tls', identity, closed: false, remote: identity.remote, close() {} }) as unknown as StreamFlow);
const t1 = performance.now();
const c1 = process.cpuUsage();
const report = await reverifyConnections(flows, registry, { logger: pino({ level: 'silent' }), changed() {}, retire() {} });
const cpu = process.cpuUsage(c1);
const wall = performance.now() - t1;

console.log(`connections: ${n} (20 distinct peers, 2-certificate chains, root in ca, CRL of the intermediate)`);
console.log(`reverifyIdentity per connection, CPU: median ${med} µs, p95 ${p95} µs (revoked found: ${revoked})`);
console.log(
  `whole pass (reverifyConnections, slices of 64): ${report.checked} connections, ${wall.toFixed(1)} ms wall (${((wall * 1000) / report.checked).toFixed(1)} µs per connection), ` +
    `${((cpu.user + cpu.system) / 1000).toFixed(1)} ms CPU (${((cpu.user + cpu.system) / report.checked).toFixed(1)} µs per connection); closed ${report.closed}`,
);

for (const c of clients) c.destroy();
for (const s of sockets) s.destroy();
registry.close();
await close(server);
dir.remove();
