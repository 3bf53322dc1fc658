// Developer tool: prints the compiled modules and the plan of one conformance case.
// `npx tsx src/rego/planner/debug-case.ts <note substring>`
import { bodyToString, moduleToString } from '../ast/index.js';
import { compileModules } from '../compiler/index.js';
import { defaultSuiteDir, loadCases } from '../conformance/cases.js';
import { evalPlan } from '../ir/interp.js';
import { printPolicy } from '../ir/print.js';
import { parseModule, parseQuery } from '../parser/index.js';
import { planPolicy } from './planner.js';

const needle = process.argv[2] ?? '';
const c = loadCases(defaultSuiteDir(), []).find((x) => x.note.includes(needle));
if (!c) throw new Error('no such case');
console.log(c.note, '\n', c.modules?.join('\n---\n'), '\nquery:', c.query);
const modules = (c.modules ?? []).map((src, i) => ({ file: `test-${i}.rego`, module: parseModule(src, `test-${i}.rego`).module! }));
const out = compileModules({ modules, queries: [{ name: 'eval', body: parseQuery(c.query).body! }] });
if (!out.policy) {
  console.log(out.errors);
  process.exit(0);
}
for (const m of out.policy.modules) console.log(moduleToString(m));
for (const q of out.policy.queries) console.log(`# query ${q.name}: ${bodyToString(q.body)}`);
console.log(JSON.stringify(out.policy.queries.map((q) => q.bindings)));
const ir = planPolicy(out.policy);
console.log(printPolicy(ir));
console.log('got', JSON.stringify(evalPlan(ir, c.input, c.data ?? {}, 'eval')), 'want', JSON.stringify(c.want_plan_result ?? c.want_result));
console.log('input', JSON.stringify(c.input), 'data', JSON.stringify(c.data));
