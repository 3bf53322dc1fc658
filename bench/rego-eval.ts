// Evaluation and link figures of the WASM back end (printed, not asserted):
//   npx tsx bench/rego-eval.ts
// A SIP-like decision over a ~4 KB identity + message input, built from hand-written IR so
// it measures the runtime and back end alone (no parser/planner).
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type * as ir from '../src/rego/ir/types.js';
import { emitWasm } from '../src/rego/wasm/index.js';

const L = (value: number): ir.Operand => ({ type: 'local', value });
const S = (value: number): ir.Operand => ({ type: 'string_index', value });
const B = (value: boolean): ir.Operand => ({ type: 'bool', value });

// allow if identity.verified, method in allowed_methods, startswith(from, "sip:"), count(san) > 0,
// no SAN ends with ".blocked.example"; decision = {allow, reason: sprintf-free concat}
const strings = ['identity', 'verified', 'message', 'method', 'allowed', 'from', 'sip:', 'san', '.blocked.example',
  'allow', 'reason', ', ', 'ok', 'denied', 'result', 'INVITE', 'REGISTER', 'OPTIONS'];
const s = (x: string) => strings.indexOf(x);
const allowFn: ir.Func = { name: 'g0.data.sip.allow', params: [0, 1], return: 2, path: ['g0', 'sip', 'allow'], blocks: [
  { stmts: [{ type: 'AssignVarStmt', source: B(false), target: 2 }] },
  { stmts: [
    { type: 'DotStmt', source: L(0), key: S(s('identity')), target: 3 },
    { type: 'DotStmt', source: L(3), key: S(s('verified')), target: 4 },
    { type: 'EqualStmt', a: L(4), b: B(true) },
    { type: 'DotStmt', source: L(0), key: S(s('message')), target: 5 },
    { type: 'DotStmt', source: L(5), key: S(s('method')), target: 6 },
    { type: 'MakeSetStmt', target: 7 },
    { type: 'SetAddStmt', set: 7, value: S(s('INVITE')) },
    { type: 'SetAddStmt', set: 7, value: S(s('REGISTER')) },
    { type: 'SetAddStmt', set: 7, value: S(s('OPTIONS')) },
    { type: 'CallStmt', func: 'internal.member_2', args: [L(6), L(7)], result: 8 },
    { type: 'EqualStmt', a: L(8), b: B(true) },
    { type: 'DotStmt', source: L(5), key: S(s('from')), target: 9 },
    { type: 'CallStmt', func: 'startswith', args: [L(9), S(s('sip:'))], result: 10 },
    { type: 'EqualStmt', a: L(10), b: B(true) },
    { type: 'DotStmt', source: L(3), key: S(s('san')), target: 11 },
    { type: 'CallStmt', func: 'count', args: [L(11)], result: 12 },
    { type: 'MakeNumberIntStmt', value: 0, target: 13 },
    { type: 'CallStmt', func: 'gt', args: [L(12), L(13)], result: 14 },
    { type: 'EqualStmt', a: L(14), b: B(true) },
    { type: 'MakeSetStmt', target: 18 },
    { type: 'ScanStmt', source: 11, key: 15, value: 16, block: { stmts: [
      { type: 'CallStmt', func: 'endswith', args: [L(16), S(s('.blocked.example'))], result: 17 },
      { type: 'EqualStmt', a: L(17), b: B(true) },
      { type: 'SetAddStmt', set: 18, value: L(16) },
    ] } },
    { type: 'LenStmt', source: L(18), target: 19 },
    { type: 'EqualStmt', a: L(19), b: L(13) },
    { type: 'AssignVarStmt', source: B(true), target: 2 },
  ] },
  { stmts: [{ type: 'ReturnLocalStmt', source: 2 }] },
] };
const policy: ir.Policy = {
  static: { strings, builtinFuncs: ['internal.member_2', 'startswith', 'count', 'gt', 'endswith', 'concat'].map((name) => ({ name, arity: name === 'count' ? 1 : 2 })), files: [] },
  funcs: [allowFn],
  plans: [{ name: 'sip/decision', blocks: [{ stmts: [
    { type: 'CallStmt', func: allowFn.name, args: [L(0), L(1)], result: 2 },
    { type: 'MakeObjectStmt', target: 3 },
    { type: 'ObjectInsertStmt', object: 3, key: S(s('allow')), value: L(2) },
    { type: 'MakeArrayStmt', capacity: 2, target: 4 },
    { type: 'ArrayAppendStmt', array: 4, value: S(s('ok')) },
    { type: 'DotStmt', source: L(0), key: S(s('message')), target: 5 },
    { type: 'DotStmt', source: L(5), key: S(s('method')), target: 6 },
    { type: 'ArrayAppendStmt', array: 4, value: L(6) },
    { type: 'CallStmt', func: 'concat', args: [S(s(', ')), L(4)], result: 7 },
    { type: 'ObjectInsertStmt', object: 3, key: S(s('reason')), value: L(7) },
    { type: 'MakeObjectStmt', target: 8 },
    { type: 'ObjectInsertStmt', object: 8, key: S(s('result')), value: L(3) },
    { type: 'ResultSetAddStmt', value: 8 },
  ] }] }],
};

const input = {
  identity: {
    verified: true,
    subject: 'CN=pbx1.example.com,O=Example Corp,C=DE',
    issuer: 'CN=Example Issuing CA 2,O=Example Corp,C=DE',
    serial: '4F:2A:91:0C:77:13:AA:90:12:34:56:78:9A:BC:DE:F0',
    san: Array.from({ length: 12 }, (_, i) => `sip:trunk${i}.pbx1.example.com`),
    not_before: '2025-01-01T00:00:00Z', not_after: '2026-01-01T00:00:00Z',
    chain: Array.from({ length: 3 }, (_, i) => ({ subject: `CN=CA ${i}`, fingerprint: 'ab'.repeat(32) })),
  },
  message: {
    method: 'INVITE', from: 'sip:alice@pbx1.example.com', to: 'sip:bob@carrier.example.net',
    call_id: 'a84b4c76e66710@pc33.example.com', cseq: 314159,
    headers: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`X-Header-${i}`, `value-${i}-${'z'.repeat(40)}`])),
    via: Array.from({ length: 4 }, (_, i) => `SIP/2.0/TLS 10.0.0.${i}:5061;branch=z9hG4bK776asdhds${i}`),
  },
  peer: { ip: '192.0.2.10', port: 5061, tls_version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
};

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const t0 = performance.now();
let wasm = await emitWasm(policy);
const cold = performance.now() - t0;
const links: number[] = [];
for (let i = 0; i < 30; i++) { const t = performance.now(); wasm = await emitWasm(policy); links.push(performance.now() - t); }
const to = performance.now();
const optimized = await emitWasm(policy, { optimize: true });
const optMs = performance.now() - to;

console.log(`input: ${JSON.stringify(input).length} bytes JSON`);
console.log(`link: cold ${cold.toFixed(0)} ms (includes loading binaryen), warm p50 ${pct(links, 50).toFixed(2)} ms p99 ${pct(links, 99).toFixed(2)} ms; with optimize ${optMs.toFixed(0)} ms`);
console.log(`module: ${wasm.length} bytes, optimized ${optimized.length} bytes`);

for (const [label, bytes] of [['linked', wasm], ['optimized', optimized]] as const) {
  const p = await loadPolicy(bytes);
  const want = JSON.stringify(p.evaluate(input));
  if (want !== '[{"result":{"allow":true,"reason":"ok, INVITE"}}]') throw new Error(`unexpected decision ${want}`);
  for (const path of ['fast', 'slow'] as const) {
    (p as unknown as { minorVersion: number }).minorVersion = path === 'fast' ? 2 : 1;
    for (let i = 0; i < 5000; i++) p.evaluate(input);
    const xs: number[] = [];
    for (let i = 0; i < 20000; i++) { const t = performance.now(); p.evaluate(input); xs.push((performance.now() - t) * 1000); }
    console.log(`eval ${label.padEnd(9)} ${path} path: p50 ${pct(xs, 50).toFixed(1)} µs, p99 ${pct(xs, 99).toFixed(1)} µs`);
  }
}
