// Decision-log volume per call: complete calls (INVITE, 180, 200, ACK, BYE, 200: six decisions)
// between two mTLS peers through the gateway with the example policy, the log written to a file
// as in production, for several log settings; and what the same calls cost uploaded to an OPA
// decision-log service (gzipped bodies, counted by a local HTTP server). Figures are printed.
// Env: BENCH_CALLS=200
import { createServer } from 'node:http';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../src/gateway/gateway.js';
import { makePki, topologyConfig, writeTestPolicy } from '../src/gateway/testing/topology.js';
import { TlsPeerServer, answer, isReq, isResp, sip, tlsClient } from '../src/gateway/testing/peer.js';
import type { GatewayConfig } from '../src/gateway/config.js';

const calls = Number(process.env.BENCH_CALLS ?? 200);

const pki = await makePki();
const biloxi = new TlsPeerServer({ ...pki.text.biloxi, ca: pki.text.fedBCa });
await biloxi.listen();
// the callee answers every INVITE (180, 200) and every BYE (200)
const orig = biloxi.inbox.push.bind(biloxi.inbox);
biloxi.inbox.push = (m) => {
  orig(m);
  const peer = biloxi.peerOf(m);
  if (isReq('INVITE')(m)) {
    peer.send(answer(m, 180, 'Ringing', { toTag: 'b' }));
    peer.send(answer(m, 200, 'OK', { toTag: 'b', contact: `<sip:bob@127.0.0.1:${biloxi.port};transport=tls>` }));
  } else if (isReq('BYE')(m)) peer.send(answer(m, 200, 'OK'));
};
const policyDir = writeTestPolicy(join(pki.dir.path, 'policy'), { host: '127.0.0.1', port: biloxi.port });

let uploaded = 0;
let uploadedEvents = 0;
const collector = createServer((req, res) => {
  let n = 0;
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('end', () => {
    uploaded += n;
    uploadedEvents++;
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
const collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;

async function run(name: string, log: GatewayConfig['log']): Promise<{ name: string; bytes: number; lines: number; uploadBytes?: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-dlog-'));
  const file = join(dir, 'bastion.log');
  const loaded = topologyConfig(pki, policyDir, { fedB: [`127.0.0.1:${biloxi.port}`] }, { log: { level: 'info', decisions: true, file, ...log } });
  uploaded = 0;
  const gw = await Gateway.start(loaded);
  const atlanta = await tlsClient(gw.listener('tls', 'fedA').port, pki.text.atlanta, pki.text.fedACa);
  for (let i = 0; i < calls; i++) {
    const callId = `${name}-${i}@pc33.atlanta.example`;
    atlanta.send(
      sip([
        'INVITE sip:bob@biloxi.example SIP/2.0',
        `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${i}-${name}`,
        'Max-Forwards: 70',
        `From: "Alice" <sip:alice@atlanta.example>;tag=a${i}`,
        'To: <sip:bob@biloxi.example>',
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:alice@127.0.0.1:5999;transport=tls>`,
      ]),
    );
    const ok = await atlanta.inbox.wait((m) => isResp(200, 'INVITE')(m) && m.callId === callId, '200');
    const rr = ok.getAll('record-route');
    const route = `Route: ${[...rr].reverse().join(', ')}`;
    const inDialog = (method: string, cseq: number, branch: string) =>
      sip([
        `${method} sip:bob@127.0.0.1:${biloxi.port};transport=tls SIP/2.0`,
        `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${branch}-${i}-${name}`,
        route,
        'Max-Forwards: 70',
        `From: "Alice" <sip:alice@atlanta.example>;tag=a${i}`,
        'To: <sip:bob@biloxi.example>;tag=b',
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
      ]);
    atlanta.send(inDialog('ACK', 1, 'ack'));
    atlanta.send(inDialog('BYE', 2, 'bye'));
    await atlanta.inbox.wait((m) => isResp(200, 'BYE')(m) && m.callId === callId, '200 BYE');
  }
  atlanta.socket.destroy();
  await gw.stop();
  const decisionLines = readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"msg":"decision"'));
  const bytes = decisionLines.reduce((s, l) => s + Buffer.byteLength(l) + 1, 0);
  rmSync(dir, { recursive: true, force: true });
  return { name, bytes, lines: decisionLines.length, uploadBytes: log?.upload ? uploaded : undefined };
}

const runs = [
  await run('default', {}),
  await run('sample', { sample: { ACK: 0, '*': 1, OPTIONS: 0.01 } }),
  await run('sample10', { sample: { '*': 0.1 } }),
  await run('input', { decision_input: true, mask: ['/identity/chain'] }),
  await run('upload', { upload: { url: collectorUrl, min_delay_seconds: 0.5, max_delay_seconds: 1 } }),
];
console.log(`decision-log volume, ${calls} calls (INVITE, 180, 200, ACK, BYE, 200 through the gateway over mTLS; example policy)`);
console.log('| log settings | decision lines per call | bytes per call | GB per day at 1,000 calls/s |');
console.log('|---|---:|---:|---:|');
const label: Record<string, string> = {
  default: 'default (summary fields, no input)',
  sample: 'sample: {ACK: 0} (allowed ACKs not logged)',
  sample10: "sample: {'*': 0.1} (10 % of allowed calls)",
  input: 'decision_input: true, mask: [/identity/chain]',
  upload: 'default, with log.upload (the file)',
};
for (const r of runs) {
  const perCall = r.bytes / calls;
  console.log(`| ${label[r.name]} | ${(r.lines / calls).toFixed(2)} | ${perCall.toFixed(0)} | ${((perCall * 1000 * 86400) / 1e9).toFixed(0)} |`);
}
const up = runs.find((r) => r.name === 'upload')!;
console.log(`| upload to an OPA decision-log service (gzipped bodies, ${uploadedEvents} POSTs) | 6 events | ${(up.uploadBytes! / calls).toFixed(0)} | ${(((up.uploadBytes! / calls) * 1000 * 86400) / 1e9).toFixed(0)} |`);
biloxi.close();
collector.close();
pki.dir.remove();
process.exit(0);
