// The floor under the gateway's CPU per call: what Node itself costs to move one call's messages
// through a process over mutual TLS, with no SIP, no policy and no transactions. A child process
// accepts two mTLS connections (the two federations' sides) and writes every chunk it reads on
// one to the other, socket.write as the gateway does (setNoDelay, one write per message). The
// parent plays both Kamailio edges: per call it sends the seven messages the gateway receives in
// bench/fixtures/call.json (same sizes, from the side they come from) at fixed call rates, and
// reads them on the other side. The child's CPU (user + system, /proc) per call is the figure:
// compare it with gateway-cpu's at the same rate. The parent's timer sends the messages due each
// millisecond, so at higher rates several leave together and the relay may read them as one
// chunk: the figure is a lower bound, more so at higher rates. Figures are printed, never asserted.
// Env: BENCH_RATES="200,500,1000,1500" BENCH_SECONDS=8
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { CertificateAuthority } from '../src/tls/pki/index.js';

const CLK_TCK = 100;
const cpuTicks = (pid: number): [number, number] => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return [Number(x[11]), Number(x[12])];
};

if (process.argv[2] === 'relay') {
  // the child: relay between the first two connections
  const pki = JSON.parse(process.argv[3]!) as { cert: string; key: string; ca: string };
  const sides: tls.TLSSocket[] = [];
  const server = tls.createServer({ cert: pki.cert, key: pki.key, ca: [pki.ca], requestCert: true, rejectUnauthorized: true }, (s) => {
    s.setNoDelay(true);
    const i = sides.push(s) - 1;
    s.on('data', (chunk: Buffer) => sides[1 - i]?.write(chunk));
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('message', (m) => m === 'stop' && process.exit(0));
} else if (process.argv[1]?.endsWith('tls-relay-floor.ts')) {
  const rates = (process.env.BENCH_RATES ?? '200,500,1000,1500').split(',').map(Number);
  const seconds = Number(process.env.BENCH_SECONDS ?? 8);
  const root = await CertificateAuthority.createRoot({ subject: 'CN=Relay Root' });
  const server = await root.issue({ subject: 'CN=relay.example', san: { dns: ['relay.example'] } });
  const peer = await root.issue({ subject: 'CN=peer.example', san: { dns: ['peer.example'] } });
  const child = fork(new URL(import.meta.url).pathname, ['relay', JSON.stringify({ cert: server.chainPem, key: server.keyPem, ca: root.certPem })], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)));
  const connect = () =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, cert: peer.chainPem, key: peer.keyPem, ca: [root.certPem], servername: 'relay.example' }, () => {
        s.setNoDelay(true);
        resolve(s);
      });
      s.once('error', reject);
    });
  const a = await connect();
  await new Promise((r) => setTimeout(r, 50));
  const b = await connect();
  // the messages the gateway receives in one call, by the side they arrive on
  const call = JSON.parse(readFileSync(new URL('./fixtures/call.json', import.meta.url), 'utf8')) as { messages: Array<{ flow: string; dir: string; text: string }> };
  const received = call.messages.filter((m) => m.dir === 'recv').map((m) => ({ from: m.flow.startsWith('atlanta') ? a : b, bytes: Buffer.from(m.text, 'utf8') }));
  const perCall = received.reduce((n, m) => n + m.bytes.length, 0);
  let bytesIn = 0;
  for (const s of [a, b]) s.on('data', (c: Buffer) => (bytesIn += c.length));
  console.log(`${received.length} messages (${perCall} bytes) relayed per call; relay CPU per call (user + system, its whole process)`);
  for (const rate of [50, ...rates]) {
    const warm = rate === 50;
    const calls = warm ? 100 : rate * seconds;
    const gapMs = 1000 / (rate * received.length);
    const [u0, s0] = cpuTicks(child.pid!);
    const started = performance.now();
    bytesIn = 0;
    let sent = 0;
    // messages go out evenly spaced, a timer tick sends those that are due
    await new Promise<void>((done) => {
      const tick = setInterval(() => {
        const due = Math.min(calls * received.length, Math.floor((performance.now() - started) / gapMs));
        for (; sent < due; sent++) {
          const m = received[sent % received.length]!;
          m.from.write(m.bytes);
        }
        if (sent >= calls * received.length) {
          clearInterval(tick);
          done();
        }
      }, 1);
    });
    while (bytesIn < calls * perCall) await new Promise((r) => setTimeout(r, 20));
    const [u1, s1] = cpuTicks(child.pid!);
    const wall = (performance.now() - started) / 1000;
    if (warm) continue;
    const us = (t: number) => ((t * 1e6) / CLK_TCK / calls).toFixed(0);
    console.log(`${rate} calls/s (${(calls / wall).toFixed(0)} achieved): relay CPU ${us(u1 - u0 + s1 - s0)} µs/call (user ${us(u1 - u0)}, sys ${us(s1 - s0)})`);
  }
  a.destroy();
  b.destroy();
  child.send('stop');
}
