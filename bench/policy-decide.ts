// The gateway's per-message cost in the policy layer: PolicyEngine.decide (SDK evaluation of the
// example policies' sip/decision + decision schema validation), with and without the decision
// log, with the input as an object and as an EncodedInput (the gateway's path: the flow's constant
// JSON spliced around the message's), and a constant-decision policy for the floor under both.
// Figures are printed, never asserted.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { pino } from 'pino';
import { PolicyEngine } from '../src/policy/engine.js';
import { EncodedInput, spliceJson, type DecisionLogPeer } from '../src/policy/encoded-input.js';

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

// The encoded forms: head and tail encoded once (per connection in the gateway), message per call.
// `whole`: one document per message; `parts`: the gateway's form, the message's JSON between a
// head and the connection's identity tail (kept resident in the module's memory, see
// src/policy/evaluator.ts). The message JSON is made before the clock starts: in the gateway it
// comes from the parsed SIP message (normalize.ts), which sip-parse measures.
const encoders = inputs.map((inp) => {
  const { message, identity, ...rest } = inp;
  const h = JSON.stringify({ ...rest, message: null });
  const head = Buffer.from(h.slice(0, h.length - 'null}'.length));
  const tail = Buffer.from(JSON.stringify({ message: null, identity }).slice('{"message":null'.length));
  const peer: DecisionLogPeer = { peer: { subject: identity?.subject?.string, issuer: identity?.issuer?.string, verified: true, presented: true, address: '127.0.0.1' }, local_domain: 'default' };
  const scope = { tail, peer };
  const json = JSON.stringify(message);
  // (no status in the log fields: a response is evaluated, not answered with a reused decision)
  const log = { direction: 'inbound', method: message.method, call_id: message.call_id, from: peer };
  return {
    whole: () => new EncodedInput(spliceJson(head, json, tail), log),
    parts: () => EncodedInput.parts(head, json, scope, log),
  };
});
// (key order differs from the object above: identity last; same document)
if (!isDeepStrictEqual(encoders[0]!.whole().toObject(), inputs[0])) throw new Error('encoded input differs');
if (!isDeepStrictEqual(encoders[0]!.parts().toObject(), inputs[0])) throw new Error('parts input differs');

const sink = new Writable({ write: (_c, _e, cb) => cb() });
// The floor: a policy whose decision is a constant, so that what is left is the cost of one
// evaluation through the module's ABI (input parsed into the module, eval, result dumped) and
// of the engine around it.
const constant = mkdtempSync(join(tmpdir(), 'policy-decide-'));
mkdirSync(join(constant, 'sip'));
writeFileSync(join(constant, 'sip', 'decision.rego'), 'package sip\n\ndecision := {"allow": true}\n');
const runs = [
  ['no decision log', undefined, policies],
  ['decision log (pino)', { logger: pino({}, sink) }, policies],
  ['constant-decision policy, no decision log', undefined, constant],
] as const;
for (const [label, log, path] of runs) {
  const engine = new PolicyEngine({ source: { type: 'dir', path }, decisionLog: log });
  const t0 = process.hrtime.bigint();
  const r = await engine.start();
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const forms = [
    ['object input', (i: number) => inputs[i % 3]],
    ['whole encoded input', (i: number) => encoders[i % 3]!.whole()],
    ['parts input (the gateway\'s)', (i: number) => encoders[i % 3]!.parts()],
  ] as const;
  for (const [form, make] of forms) {
    for (let i = 0; i < 2000; i++) engine.decide(make(i));
    const n = 20000;
    const given = Array.from({ length: n }, (_, i) => make(i));
    const lat: number[] = [];
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint();
      engine.decide(given[i]);
      lat.push(Number(process.hrtime.bigint() - s) / 1e3);
    }
    const c = process.cpuUsage(c0);
    lat.sort((a, b) => a - b);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(1);
    console.log(`${label}, ${form}: load+compile ${loadMs.toFixed(0)} ms; decide p50 ${q(0.5)} µs, p99 ${q(0.99)} µs, max ${q(1)} µs, CPU ${((c.user + c.system) / n).toFixed(1)} µs each (${n} decisions)`);
  }
  engine.close();
}
rmSync(constant, { recursive: true, force: true });
