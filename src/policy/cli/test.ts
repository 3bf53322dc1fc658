// `bastion policy test`: like `opa test`. Every `test_*` rule of every package is compiled as an
// entrypoint of ONE WASM module by our compiler and evaluated through @open-policy-agent/opa-wasm,
// the path the gateway uses. A test passes when its value is defined and not `false`; `todo_*`
// rules are reported as skipped. Exit codes: 0 all passed, 1 a test failed or errored (or the
// coverage threshold was missed), 2 load/parse/compile errors.
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile, parseModule, type CompileOptions, type Location, type Module, type RegoError, type Term } from '../../rego/index.js';
import { hostBuiltins } from '../builtins.js';
import { buildReport, CoverageRecorder, thresholdError, type CoverageReport } from './coverage.js';
import { errorLine, goDuration, loadErrorOf, loadSources, prettyErrors, type CliResult } from './common.js';

export interface TestOptions {
  paths: string[];
  bundles?: string[];
  verbose?: boolean;
  run?: string;
  format?: 'pretty' | 'json';
  coverage?: boolean;
  threshold?: number;
  strict?: boolean;
  /** Strict builtin errors (default true, as the gateway): a failing builtin is an error, not undefined. */
  strictBuiltinErrors?: boolean;
}

export interface TestResult {
  location: { file: string; row: number; col: number };
  package: string;
  name: string;
  fail?: boolean;
  error?: { code: string; message: string };
  skip?: boolean;
  duration: number; // ns, as Go's time.Duration in JSON
}

export interface TestRun {
  results: TestResult[];
  errors: RegoError[]; // load/parse/compile errors (exit 2)
  coverage?: CoverageReport;
  coverageError?: string;
  compileNs?: number;
}

interface Discovered {
  pkg: string; // data.sip.s1
  name: string; // test_x
  entrypoint: string; // sip/s1/test_x
  location: TestResult['location'];
  skip: boolean;
}

function packagePath(m: Module): string[] {
  return m.package.path.slice(1).map((t: Term) => (t.value.type === 'string' || t.value.type === 'var' ? t.value.value : '?'));
}

function discover(modules: Array<{ file: string; module: Module }>): Discovered[] {
  const out: Discovered[] = [];
  const seen = new Set<string>();
  for (const { file, module } of modules) {
    const pkg = packagePath(module);
    for (const rule of module.rules) {
      const name = rule.head.name || (rule.head.reference.length === 1 && rule.head.reference[0]!.value.type === 'var' ? rule.head.reference[0]!.value.value : '');
      const isTest = name.startsWith('test_');
      const isTodo = name.startsWith('todo_');
      if (!isTest && !isTodo) continue;
      if (rule.head.args && rule.head.args.length > 0) continue; // functions are helpers, not tests
      const key = [...pkg, name].join('/');
      if (seen.has(key)) continue;
      seen.add(key);
      const loc: Location | undefined = rule.location ?? rule.head.location;
      out.push({ pkg: ['data', ...pkg].join('.'), name, entrypoint: key, location: { file, row: loc?.row ?? 0, col: loc?.col ?? 0 }, skip: isTodo });
    }
  }
  return out;
}

export async function runTests(opts: TestOptions): Promise<TestRun> {
  let sources;
  try {
    sources = await loadSources(opts.paths, opts.bundles ?? []);
  } catch (e) {
    return { results: [], errors: [loadErrorOf(e)] };
  }
  const parsed: Array<{ file: string; module: Module }> = [];
  const errors: RegoError[] = [];
  for (const m of sources.modules) {
    const r = parseModule(m.source, m.file);
    if (r.module) parsed.push({ file: m.file, module: r.module });
    errors.push(...r.errors);
  }
  if (errors.length > 0) return { results: [], errors };
  let filter: RegExp | undefined;
  try {
    filter = opts.run ? new RegExp(opts.run) : undefined;
  } catch (e) {
    return { results: [], errors: [{ code: 'rego_load_error', message: `--run: ${(e as Error).message}` }] };
  }
  const tests = discover(parsed).filter((t) => !filter || filter.test(`${t.pkg}.${t.name}`));
  const runnable = tests.filter((t) => !t.skip);
  const results: TestResult[] = [];
  if (runnable.length === 0) {
    for (const t of tests) results.push({ location: t.location, package: t.pkg, name: t.name, skip: true, duration: 0 });
    return { results, errors: [] };
  }
  const started = process.hrtime.bigint();
  const parsedByFile = new Map(parsed.map((p) => [p.file, p.module]));
  const compileOpts: CompileOptions & { coverage?: boolean } = {
    modules: sources.modules.map((m) => ({ ...m, parsed: parsedByFile.get(m.file) })),
    entrypoints: runnable.map((t) => t.entrypoint),
    strict: opts.strict,
    strictBuiltinErrors: opts.strictBuiltinErrors ?? true,
    coverage: opts.coverage,
  };
  const out = await compile(compileOpts);
  const compileNs = Number(process.hrtime.bigint() - started);
  if (out.errors.length > 0 || !out.wasm) return { results: [], errors: out.errors.length ? out.errors : [{ code: 'rego_compile_error', message: 'no module produced' }] };
  const recorder = new CoverageRecorder();
  let policy;
  try {
    policy = await loadPolicy(out.wasm, undefined, { ...(await hostBuiltins(opts.strictBuiltinErrors ?? true)), ...(opts.coverage ? recorder.builtin() : {}) });
    policy.setData(sources.data);
  } catch (e) {
    return { results: [], errors: [{ code: 'rego_load_error', message: `cannot load compiled module: ${(e as Error)?.message ?? String(e)}` }] };
  }
  for (const t of tests) {
    const base = { location: t.location, package: t.pkg, name: t.name };
    if (t.skip) {
      results.push({ ...base, skip: true, duration: 0 });
      continue;
    }
    const t0 = process.hrtime.bigint();
    let rs: unknown;
    let error: TestResult['error'];
    try {
      rs = policy.evaluate(undefined, t.entrypoint);
    } catch (e) {
      const msg = typeof e === 'string' ? e : ((e as Error)?.message ?? String(e));
      error = { code: 'eval_error', message: msg };
    }
    const duration = Number(process.hrtime.bigint() - t0);
    if (error) {
      results.push({ ...base, error, duration });
      continue;
    }
    const first = Array.isArray(rs) && rs.length > 0 ? (rs[0] as { result?: unknown }).result : undefined;
    const pass = first !== undefined && first !== false;
    results.push(pass ? { ...base, duration } : { ...base, fail: true, duration });
  }
  const run: TestRun = { results, errors: [], compileNs };
  if (opts.coverage) {
    if (recorder.empty) run.coverageError = 'coverage: the compiled module recorded no hits; the compiler does not support coverage instrumentation yet (see src/rego/planner/NEEDS.md)';
    else run.coverage = buildReport(parsed, recorder);
  }
  return run;
}

const passed = (r: TestResult): boolean => !r.fail && !r.error && !r.skip;

function outcome(r: TestResult): string {
  if (r.skip) return 'SKIPPED';
  if (r.fail) return 'FAIL';
  if (r.error) return 'ERROR';
  return 'PASS';
}

/** OPA's PrettyReporter: test lines (all with -v, else only non-passing), a rule, then the summary. */
export function prettyReport(results: TestResult[], verbose: boolean): string {
  const lines: string[] = [];
  let lastFile = '';
  let dirty = false;
  for (const r of results) {
    if (verbose || !passed(r)) {
      if (lastFile !== '' && lastFile !== r.location.file) lines.push('');
      lines.push(`${r.location.file}:${r.location.row}:`);
      lastFile = r.location.file;
      dirty = true;
      lines.push(r.skip ? `${r.package}.${r.name}: SKIPPED` : `${r.package}.${r.name}: ${outcome(r)} (${goDuration(r.duration)})`);
      if (r.error) lines.push(`  ${r.error.code}: ${r.error.message}`);
    }
  }
  if (dirty) lines.push('-'.repeat(80));
  const total = results.length;
  const count = (f: (r: TestResult) => boolean): number => results.filter(f).length;
  const pass = count(passed);
  const fail = count((r) => !!r.fail);
  const skip = count((r) => !!r.skip);
  const errs = count((r) => !!r.error && !r.fail);
  if (pass) lines.push(`PASS: ${pass}/${total}`);
  if (fail) lines.push(`FAIL: ${fail}/${total}`);
  if (skip) lines.push(`SKIPPED: ${skip}/${total}`);
  if (errs) lines.push(`ERROR: ${errs}/${total}`);
  return lines.join('\n') + '\n';
}

export async function runTestCommand(opts: TestOptions): Promise<CliResult> {
  const run = await runTests(opts);
  if (run.errors.length > 0) {
    const text = opts.format === 'json' ? JSON.stringify({ errors: run.errors }, null, 2) + '\n' : prettyErrors(run.errors);
    return { stdout: '', stderr: text, exitCode: 2 };
  }
  const failing = run.results.filter((r) => r.fail || r.error);
  if (run.results.length === 0) return { stdout: '', stderr: 'no test cases found\n', exitCode: 2 };
  if (opts.coverage) {
    // As `opa test --coverage`: failures are printed in the pretty format, else the JSON report.
    if (failing.length > 0) return { stdout: prettyReport(failing, !!opts.verbose), stderr: '', exitCode: 1 };
    if (!run.coverage) return { stdout: '', stderr: (run.coverageError ?? 'coverage unavailable') + '\n', exitCode: 2 };
    const threshold = opts.threshold ?? 0;
    if (run.coverage.coverage < threshold) return { stdout: '', stderr: thresholdError(run.coverage, threshold, !!opts.verbose), exitCode: 1 };
    return { stdout: JSON.stringify(run.coverage, null, 2) + '\n', stderr: '', exitCode: 0 };
  }
  const stdout = opts.format === 'json' ? JSON.stringify(run.results, null, 2) + '\n' : prettyReport(run.results, !!opts.verbose);
  return { stdout, stderr: '', exitCode: failing.length > 0 ? 1 : 0 };
}

export { errorLine };
