// The gateway's per-message cost in the policy layer: PolicyEngine.decide (SDK evaluation of the
// example policies' sip/decision + decision schema validation), with and without the decision
// log. Figures are printed, never asserted.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { PolicyEngine } from '../src/policy/engine.js';

const policies = fileURLToPath(new URL('../policies/', import.meta.url));
const ids = JSON.parse(readFileSync(new URL('../policies/fixtures/identities.json', import.meta.url), 'utf8')).identities;
const msgs = JSON.parse(readFileSync(new URL('../policies/fixtures/messages.json', import.meta.url), 'utf8')).messages;
const input = (id: string, m: string) => ({
  direction: 'inbound',
  transport: 'tls',
  connection: { local: { address: '127.0.0.1', port: 5061, domain: 'default' }, remote: { address: '127.0.0.1', port: 40001 } },
  identity: ids[id],
  message: msgs[m],
});
const inputs = [input('fed_a_sbc', 'invite_atlanta_to_biloxi'), input('rogue_peer', 'invite_atlanta_to_biloxi'), input('fed_b_sbc', 'response_200_invite')];
console.log(`input size ${JSON.stringify(inputs[0]).length} bytes`);

const sink = new Writable({ write: (_c, _e, cb) => cb() });
for (const [label, log] of [['no decision log', undefined], ['decision log (pino)', { logger: pino({}, sink) }]] as const) {
  const engine = new PolicyEngine({ source: { type: 'dir', path: policies }, decisionLog: log });
  const t0 = process.hrtime.bigint();
  const r = await engine.start();
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  for (let i = 0; i < 2000; i++) engine.decide(inputs[i % 3]);
  const n = 20000;
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    engine.decide(inputs[i % 3]);
    lat.push(Number(process.hrtime.bigint() - s) / 1e3);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(1);
  console.log(`${label}: load+compile ${loadMs.toFixed(0)} ms; decide p50 ${q(0.5)} µs, p99 ${q(0.99)} µs, max ${q(1)} µs (${n} decisions)`);
  engine.close();
}
