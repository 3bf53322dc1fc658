// Compile and evaluation figures of the Rego toolchain on a realistic policy (printed, not
// asserted; issue 4's goals: compile <= 150 ms, evaluation p99 <= 50 µs):
//   npx tsx bench/rego-compile.ts
// The policy is bench/fixtures/sip-gateway.rego (~300 lines: partial sets and objects,
// functions, comprehensions, every, else); the input a ~4 KB identity + SIP message document.
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { readFileSync } from 'node:fs';
import { compile } from '../src/rego/index.js';
import { compileModules } from '../src/rego/compiler/index.js';
import { parseModule, parseQuery } from '../src/rego/parser/index.js';
import { planPolicy } from '../src/rego/planner/planner.js';
import { emitWasm } from '../src/rego/wasm/index.js';
import { sipGatewayInput } from './fixtures/sip-gateway-input.js';

const file = 'bench/fixtures/sip-gateway.rego';
const source = readFileSync(new URL('./fixtures/sip-gateway.rego', import.meta.url), 'utf8');
const entrypoint = 'bench/sip/decision';

const input = sipGatewayInput;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function compileOnce(): Promise<Uint8Array> {
  const r = await compile({ modules: [{ file, source }], entrypoints: [entrypoint] });
  if (r.errors.length > 0 || !r.wasm) throw new Error(`compile failed: ${JSON.stringify(r.errors)}`);
  return r.wasm;
}

// Stage by stage (parse, compile, plan, link), to show where the time goes.
async function stages(): Promise<Record<string, number>> {
  const t0 = performance.now();
  const parsed = parseModule(source, file);
  const query = parseQuery(`result = data.${entrypoint.replace(/\//g, '.')}`);
  const t1 = performance.now();
  const compiled = compileModules({ modules: [{ file, module: parsed.module! }], queries: [{ name: entrypoint, body: query.body! }] });
  const t2 = performance.now();
  const ir = planPolicy(compiled.policy!);
  const t3 = performance.now();
  await emitWasm(ir);
  const t4 = performance.now();
  return { parse: t1 - t0, compile: t2 - t1, plan: t3 - t2, link: t4 - t3 };
}

const lines = source.split('\n').length;
const tCold = performance.now();
let wasm = await compileOnce();
const cold = performance.now() - tCold;

for (let i = 0; i < 10; i++) await compileOnce();
const warm: number[] = [];
for (let i = 0; i < 40; i++) {
  const t = performance.now();
  wasm = await compileOnce();
  warm.push(performance.now() - t);
}
const per: Record<string, number[]> = {};
for (let i = 0; i < 20; i++) {
  for (const [k, v] of Object.entries(await stages())) (per[k] ??= []).push(v);
}

console.log(`policy: ${file}, ${lines} lines; input ${JSON.stringify(input).length} bytes JSON`);
console.log(`compile (parse+compile+plan+link): cold ${ms(cold)} (includes loading binaryen), warm p50 ${ms(pct(warm, 50))} p99 ${ms(pct(warm, 99))}`);
console.log(`  warm p50 by stage: ${Object.entries(per).map(([k, v]) => `${k} ${ms(pct(v, 50))}`).join(', ')}`);
console.log(`module: ${wasm.length} bytes`);

const policy = await loadPolicy(wasm);
const result = policy.evaluate(input, entrypoint) as Array<{ result: { allow?: boolean } }>;
if (result.length !== 1 || result[0]!.result.allow !== true) throw new Error(`unexpected decision ${JSON.stringify(result)}`);
for (const path of ['fast', 'slow'] as const) {
  (policy as unknown as { minorVersion: number }).minorVersion = path === 'fast' ? 2 : 1;
  for (let i = 0; i < 3000; i++) policy.evaluate(input, entrypoint);
  const xs: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const t = performance.now();
    policy.evaluate(input, entrypoint);
    xs.push((performance.now() - t) * 1000);
  }
  console.log(`evaluate ${path} path: p50 ${pct(xs, 50).toFixed(1)} µs, p99 ${pct(xs, 99).toFixed(1)} µs`);
}
