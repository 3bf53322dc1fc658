// Developer tool (not product code): runs conformance cases through parse -> compile -> plan
// and evaluates the plans with the test-only IR interpreter, to check the planner's meaning
// without the WASM back end. `npx tsx src/rego/planner/interp-conformance.ts [topic ...] [-v]`
import { isDeepStrictEqual } from 'node:util';
import type { Body, Module } from '../ast/types.js';
import type { CompileInput, CompileOutput } from '../compiler/types.js';
import { CORE_TOPICS, defaultSuiteDir, loadCases, type LoadedCase } from '../conformance/cases.js';
import { expectationOf } from '../conformance/runner.js';
import { evalPlan } from '../ir/interp.js';
import { parseModule, parseQuery } from '../parser/index.js';
import { planPolicy } from './planner.js';

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalize((v as Record<string, unknown>)[k])]));
  return v;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const verbose = argv.includes('-v');
  const selectors = argv.filter((a) => a !== '-v');
  const { compileModules } = (await import('../compiler/index.js' as string)) as { compileModules: (i: CompileInput) => CompileOutput };
  let cases = loadCases(defaultSuiteDir(), selectors);
  if (selectors.length === 0) cases = cases.filter((c) => CORE_TOPICS.has(c.topic));
  const byTopic = new Map<string, { pass: number; fail: number }>();
  for (const c of cases) {
    const outcome = runOne(c, compileModules);
    const t = byTopic.get(c.topic) ?? { pass: 0, fail: 0 };
    if (outcome === true) t.pass++;
    else {
      t.fail++;
      if (verbose) console.log(`FAIL ${c.note}: ${outcome}`);
    }
    byTopic.set(c.topic, t);
  }
  let pass = 0;
  let total = 0;
  for (const [topic, t] of [...byTopic].sort()) {
    console.log(`${topic.padEnd(30)} ${t.pass}/${t.pass + t.fail}`);
    pass += t.pass;
    total += t.pass + t.fail;
  }
  console.log(`total ${pass}/${total}`);
}

function runOne(c: LoadedCase, compileModules: (i: CompileInput) => CompileOutput): true | string {
  const want = expectationOf(c);
  try {
    const modules: Array<{ file: string; module: Module }> = [];
    const errs: string[] = [];
    (c.modules ?? []).forEach((src, i) => {
      const r = parseModule(src, `test-${i}.rego`);
      if (r.module) modules.push({ file: `test-${i}.rego`, module: r.module });
      errs.push(...r.errors.map((e) => e.code));
    });
    const q = parseQuery(c.query);
    errs.push(...q.errors.map((e) => e.code));
    if (errs.length > 0) return want.error && errs.includes(want.error.code ?? '') ? true : `parse errors ${errs.join(',')}`;
    const out = compileModules({ modules, queries: [{ name: 'eval', body: q.body as Body }] });
    if (out.errors.length > 0 || !out.policy) {
      const codes = out.errors.map((e) => e.code);
      return want.error && (!want.error.code || codes.includes(want.error.code)) ? true : `compile errors ${out.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`;
    }
    const ir = planPolicy(out.policy);
    let input: unknown = c.input;
    if (c.input_term !== undefined) input = JSON.parse(c.input_term);
    const got = evalPlan(ir, input, c.data ?? {}, 'eval');
    if (want.error) return `wanted ${want.error.code}, got ${JSON.stringify(got)}`;
    const w = want.results ?? [];
    const strip = (rows: unknown[]) => rows.map((r) => (c.ignore_generated_vars && r && typeof r === 'object' ? Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('__'))) : r));
    const g = strip(got);
    const ww = strip(w);
    const key = (x: unknown) => JSON.stringify(normalize(x));
    const same = c.sort_bindings ? isDeepStrictEqual(g.map(key).sort(), ww.map(key).sort()) : isDeepStrictEqual(normalize(g), normalize(ww));
    return same ? true : `got ${JSON.stringify(got)}, want ${JSON.stringify(w)}`;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (want.error && msg.includes(want.error.code ?? '@@')) return true;
    return `threw ${msg}`;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
