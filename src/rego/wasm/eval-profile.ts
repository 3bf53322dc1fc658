// Evaluation figures for the back end and runtime (a tool, not a test; prints, asserts nothing):
//   npx tsx src/rego/wasm/eval-profile.ts [--optimize] [--loop N [--trivial]] [--check]
// Compiles the example policy set (policies/sip/**, no tests) as the gateway does (strict
// builtin errors, host builtins strict), loads policies/data.yaml, and times
// policy.evaluate(ArrayBuffer, 'sip/decision') on the 4.3 KB fixture input, next to a trivial
// policy on the same input (input parse + SDK overhead). --loop N evaluates the example N
// times more, for `node --cpu-prof` (run with REGO_RUNTIME_WASM pointing at a runtime built
// with --debug: the linked module then carries function names). --check prints the result.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import YAML from 'yaml';
import { compile } from '../index.js';
import { createHostBuiltins } from '../builtins/host.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const args = process.argv.slice(2);
const optimize = args.includes('--optimize');
const loopAt = args.indexOf('--loop');
const loop = loopAt >= 0 ? Number(args[loopAt + 1]) : 0;

const fixture = (f: string) => JSON.parse(readFileSync(join(root, 'policies/fixtures', f), 'utf8'));
const input = {
  direction: 'inbound',
  transport: 'tls',
  connection: { local: { address: '127.0.0.1', port: 5061, domain: 'default' }, remote: { address: '127.0.0.1', port: 40001 } },
  message: fixture('messages.json').messages.invite_atlanta_to_biloxi,
  identity: fixture('identities.json').identities.fed_a_sbc,
};
const bytes = Buffer.from(JSON.stringify(input));
const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);

function regoFiles(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) { if (f !== 'testing') regoFiles(p, out); } else if (f.endsWith('.rego') && !f.endsWith('_test.rego')) out.push(p);
  }
  return out;
}

async function load(modules: Array<{ file: string; source: string }>, entrypoint: string, data?: unknown) {
  const r = await compile({ modules, entrypoints: [entrypoint], optimize, strictBuiltinErrors: true });
  if (!r.wasm) throw new Error(JSON.stringify(r.errors));
  const p = await loadPolicy(r.wasm, undefined, createHostBuiltins({ strict: true }) as never);
  if (data !== undefined) p.setData(data as object);
  return p;
}

/** µs of CPU time per call of f: best of 15 rounds of 10,000 (steadier than wall clock on a busy box). */
function bestOf(f: () => void): number {
  for (let i = 0; i < 5000; i++) f();
  let best = Infinity;
  for (let r = 0; r < 15; r++) {
    const n = 10000;
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) f();
    const d = process.cpuUsage(c);
    best = Math.min(best, (d.user + d.system) / n);
  }
  return best;
}

function time(p: Awaited<ReturnType<typeof loadPolicy>>, entrypoint: string): number {
  return bestOf(() => p.evaluate(ab, entrypoint));
}

const modules = regoFiles(join(root, 'policies/sip')).map((f) => ({ file: f, source: readFileSync(f, 'utf8') }));
const data = YAML.parse(readFileSync(join(root, 'policies/data.yaml'), 'utf8'));
const example = await load(modules, 'sip/decision', data);
const trivial = await load([{ file: 't.rego', source: 'package t\nallow := true\n' }], 't/allow');

if (args.includes('--check')) console.log(JSON.stringify(example.evaluate(ab, 'sip/decision')));
if (loop > 0) {
  const p = args.includes('--trivial') ? trivial : example;
  const ep = args.includes('--trivial') ? 't/allow' : 'sip/decision';
  for (let i = 0; i < loop; i++) p.evaluate(ab, ep);
} else {
  console.log(`input ${bytes.length} B, optimize ${optimize}`);
  console.log(`example sip/decision: ${time(example, 'sip/decision').toFixed(2)} µs/eval`);
  console.log(`trivial t/allow:      ${time(trivial, 't/allow').toFixed(2)} µs/eval`);
  console.log(`opa_json_parse alone: ${timeParse(trivial).toFixed(2)} µs/parse`);
}

/** µs per opa_json_parse of the input (already in memory), straight through the export. */
function timeParse(p: Awaited<ReturnType<typeof loadPolicy>>): number {
  const internals = p as unknown as { wasmInstance: WebAssembly.Instance; mem: WebAssembly.Memory; dataHeapPtr: number };
  const ex = internals.wasmInstance.exports as Record<string, (...a: number[]) => number>;
  const at = internals.dataHeapPtr;
  new Uint8Array(internals.mem.buffer).set(bytes, at);
  const once = () => {
    ex.opa_heap_ptr_set!(at + bytes.length);
    if (ex.opa_json_parse!(at, bytes.length) === 0) throw new Error('parse failed');
  };
  return bestOf(once);
}
