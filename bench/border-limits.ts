// What the per-peer limits cost per message (figures printed, never asserted):
//  1. in process, CPU per call: the datagram screen (pass and drop), the stream request check,
//     counting a request for input.connection.stats and writing the stats into the policy input;
//  2. on the wire: CPU of this process per datagram received from a paced flooder child, for a
//     bare dgram socket with an empty handler (Node's floor) and for the gateway's Transports
//     with the border dropping every datagram (limit exceeded), at BENCH_RATE datagrams/s;
//  3. topology hiding: CPU per INVITE hidden (tokens new, and cached as within a dialog), per
//     in-dialog request decoded, and the bytes it adds.
// Env: BENCH_RATE=10000 BENCH_SECONDS=5
import * as dgram from 'node:dgram';
import pino from 'pino';
import { Border } from '../src/gateway/border.js';
import { Transports } from '../src/gateway/transports.js';
import { encodePolicyInput } from '../src/gateway/input.js';
import { DatagramFlow, type Flow, type FlowHandler } from '../src/gateway/flow.js';
import { resolvePeerLimits, DEFAULT_WRITE_LIMITS, RequestStats, requestStatsJson } from '../src/limits/index.js';
import { parseMessage } from '../src/sip/parser.js';
import { runPeer } from '../src/limits/testing/peer-process.js';
import { TopologyHiding } from '../src/gateway/topology-hiding.js';

const rate = Number(process.env.BENCH_RATE ?? 10_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const silent = pino({ level: 'silent' });

function bench(name: string, fn: (i: number) => unknown, iterations = 200_000, rounds = 7): number {
  for (let i = 0; i < 20_000; i++) fn(i);
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn(i);
    const c = process.cpuUsage(c0);
    cpu.push(((c.user + c.system) * 1000) / iterations);
  }
  cpu.sort((a, b) => a - b);
  const median = cpu[Math.floor(cpu.length / 2)]!;
  console.log(`${name.padEnd(62)} ${median.toFixed(0).padStart(6)} ns`);
  return median;
}

const OPTIONS = Buffer.from(
  'OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-1\r\nMax-Forwards: 70\r\nFrom: <sip:a@atlanta.example>;tag=1\r\nTo: <sip:127.0.0.1:5060>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
);

console.log(`border-limits: node ${process.version}`);
console.log('\n1. per call, CPU (median of 7 rounds)');
{
  // a budget nobody exhausts: the pass path; a budget of 1 per 1000 s: the drop path
  const open = new Border({ limits: resolvePeerLimits({ requests_per_ip: { rate: 1e12, burst: 1e12 } }), write: DEFAULT_WRITE_LIMITS, logger: silent });
  const shut = new Border({ limits: resolvePeerLimits({ requests_per_ip: { rate: 0.001, burst: 1 }, replies_per_ip: { rate: 0.001, burst: 1 } }), write: DEFAULT_WRITE_LIMITS, logger: silent });
  const addrs = Array.from({ length: 64 }, (_, i) => `192.0.2.${i + 1}`);
  bench('screenDatagram, within the rate (one of 64 addresses)', (i) => open.screenDatagram(OPTIONS, addrs[i & 63]!, 5060));
  bench('screenDatagram, over the rate and the 503 budget (drop)', (i) => shut.screenDatagram(OPTIONS, addrs[i & 63]!, 5060));
  bench('stream request: per-address + per-identity check', (i) => {
    open.limiter.request(addrs[i & 63]!, 5061, true);
    return open.limiter.identityRequest('CN=sbc.atlanta.example,O=FedA', addrs[i & 63]!, 5061, true);
  });
  const stats = new RequestStats();
  const flows = Array.from({ length: 64 }, () => ({}));
  bench('count a request for input.connection.stats (flow + identity)', (i) => stats.count(flows[i & 63]!, 'CN=sbc.atlanta.example,O=FedA'));
  bench('input.connection.stats JSON for the policy input', (i) => requestStatsJson(flows[i & 63]!));
  const sock = dgram.createSocket('udp4');
  const flow: Flow = new DatagramFlow(sock, { address: '192.0.2.1', port: 5060 }, { transport: 'udp', address: '127.0.0.1', port: 5060, hostport: '127.0.0.1:5060' });
  const msg = parseMessage(OPTIONS);
  stats.count(flow, undefined);
  bench('encodePolicyInput (whole input, stats included)', () => encodePolicyInput(flow, msg), 100_000);
  open.close();
  shut.close();
  stats.close();
  sock.close();
}

console.log('\n3. topology hiding (per message, CPU)');
{
  const th = new TopologyHiding({ serverDomains: [], clientDomains: ['hidden'], isOwn: () => true, secret: Buffer.alloc(32, 1) });
  const listener = { transport: 'tls' as const, address: '127.0.0.1', port: 5061, hostport: '127.0.0.1:5061' };
  const fakeFlow = (domain: string | undefined, inbound: boolean): Flow => ({
    id: 1, transport: 'tls', reliable: true, local: { address: '127.0.0.1', port: 5061, ...(domain ? { domain } : {}) }, remote: { address: '192.0.2.9', port: 5061 },
    ...(inbound ? { listener } : {}), send() {}, get closed() { return false; }, close() {},
  });
  const inFlow = fakeFlow('open', true);
  const out = fakeFlow('hidden', false);
  const invite = (i: number) =>
    parseMessage(Buffer.from(
      `INVITE sip:bob@biloxi.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5062;branch=z9hG4bK-gw${i}\r\nVia: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bK-a${i}\r\nVia: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK-ua${i}\r\n` +
      `Record-Route: <sip:127.0.0.1:5062;transport=tls;lr>\r\nRecord-Route: <sip:127.0.0.1:5061;transport=tls;lr>\r\nRecord-Route: <sip:10.1.1.1:5061;transport=tls;lr;ftag=x>\r\n` +
      `Max-Forwards: 69\r\nFrom: <sip:alice@atlanta.example>;tag=a${i}\r\nTo: <sip:bob@biloxi.example>\r\nCall-ID: c${i}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@10.1.2.3:5060>\r\nContent-Length: 0\r\n\r\n`,
    ));
  const fresh = Array.from({ length: 256 }, (_, i) => invite(i));
  let n = 0;
  const before = invite(0).toBuffer().length;
  const sample = invite(0);
  th.outboundRequest(sample, inFlow, out, listener, listener, 2);
  const after = sample.toBuffer().length;
  bench('INVITE hidden (clone + Via, Record-Route, Contact; tokens cached)', () => th.outboundRequest(fresh[n++ & 255]!.clone(), inFlow, out, listener, listener, 2), 20_000);
  bench('the same, clone only (the part that is not hiding)', () => fresh[n++ & 255]!.clone(), 20_000);
  let k = 0;
  bench('INVITE hidden, new tokens (AES-256-GCM each)', () => {
    const m = fresh[n++ & 255]!.clone();
    m.set('Contact', `<sip:alice@10.1.2.${k++ & 255}:${5000 + (k % 1000)}>`);
    m.append('Record-Route', `<sip:10.9.${k & 255}.${(k >> 8) & 255}:5061;lr>`);
    return th.outboundRequest(m, inFlow, out, listener, listener, 2);
  }, 20_000);
  const rr = sample.getAll('record-route')[0]!;
  const contact = sample.getAll('contact')[0]!.replace(/^<|>.*$/g, '');
  const bye = parseMessage(Buffer.from(`BYE ${contact} SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.9:5061;branch=z9hG4bK-b\r\nRoute: ${rr}\r\nMax-Forwards: 70\r\nFrom: <sip:bob@biloxi.example>;tag=b\r\nTo: <sip:alice@atlanta.example>;tag=a0\r\nCall-ID: c0\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n`));
  bench('in-dialog request decoded (Route + Request-URI, cached)', () => th.inboundRequest(bye.clone()), 20_000);
  console.log(`bytes: the hidden INVITE ${after} vs ${before} as it came (Record-Route token ${/bth=([^;>]+)/.exec(sample.getAll('record-route')[0]!)![1]!.length} chars, Contact token ${/bth=([^;>]+)/.exec(sample.getAll('contact')[0]!)![1]!.length} chars)`);
}

console.log(`\n2. on the wire: CPU of the receiving process per datagram, flooder at ${rate}/s for ${seconds} s`);
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}
async function flood(port: number): Promise<void> {
  await runPeer('udpFlood', { from: '127.0.0.2', port, seconds, rate });
}
async function measure(name: string, start: (count: () => void) => Promise<{ port: number; stop: () => Promise<void> }>): Promise<number> {
  let n = 0;
  const r = await start(() => n++);
  await new Promise((res) => setTimeout(res, 300));
  const c0 = cpuMs();
  const n0 = n;
  await flood(r.port);
  const used = cpuMs() - c0;
  const got = n - n0;
  await r.stop();
  const us = (used * 1000) / Math.max(1, got);
  console.log(`${name.padEnd(62)} ${us.toFixed(2).padStart(6)} µs/datagram (${got} received, ${used.toFixed(0)} ms CPU)`);
  return us;
}
const bare = await measure('bare dgram socket, empty handler', async (count) => {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  s.on('message', () => count());
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, stop: () => new Promise((r) => s.close(() => r())) };
});
const guarded = await measure('gateway Transports + border, every datagram over the limit', async (count) => {
  const border = new Border({ limits: resolvePeerLimits({ requests_per_ip: { rate: 0.001, burst: 1 }, replies_per_ip: { rate: 0.001, burst: 1 } }), write: DEFAULT_WRITE_LIMITS, logger: silent });
  const handler: FlowHandler = { onMessage: () => count(), onBadInput: () => count() };
  const t = new Transports({ logger: silent, border, handler });
  const screen = border.screenDatagram.bind(border);
  border.screenDatagram = (b, a, p) => (count(), screen(b, a, p));
  const info = await t.listen({ transport: 'udp', address: '127.0.0.1', port: 0 });
  return { port: info.port, stop: async () => (await t.close(), border.close()) };
});
console.log(`limit check on the wire: ${(guarded - bare).toFixed(2)} µs per datagram above Node's floor`);
