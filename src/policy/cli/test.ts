// `bastion policy test`: `opa test` (cmd/test.go, v1/tester/) on our toolchain. Every test of
// every package is an entrypoint of ONE WASM module compiled by our compiler and evaluated
// through @open-policy-agent/opa-wasm, the path the gateway uses.
//
// As OPA: a test passes only when its value is `true`; `todo_test_*` rules are skipped;
// duplicate test names run as `test_x#01`; partial-object tests report their cases; exit codes
// are 0 (all passed), 2 (a test failed, errored or was skipped without -z, or the coverage
// threshold was missed), 1 (load, parse or compile errors; a failure under --coverage).
import { RE2JS } from 're2js';
import { ast, check, compile, evalErrorText, parseModule, type Module, type RegoError, type TraceNodeInfo } from '../../rego/index.js';
import { buildReport, CoverageRecorder, thresholdError, type CoverageReport } from './coverage.js';
import { errorsText, loadErrorOf, loadSources, parseGoDuration, type CliResult } from './common.js';
import { loadSchemaOptions, type SchemaFlags } from './schemas.js';
import { discoverTests, injectTestCases, renameDuplicateTests, type DiscoveredTest } from './tester/discover.js';
import { prewarm, TestEvaluator } from './tester/evaluator.js';
import { jsonReport, prettyReport, resultString } from './tester/report.js';
import { filterTrace, traceEvents, type ExplainMode } from './tester/trace.js';
import { verdict, type TestResult } from './tester/results.js';

export type { TestResult } from './tester/results.js';

export interface TestOptions extends SchemaFlags {
  paths: string[];
  /** `-b`: the paths are bundles (directories or .tar.gz), as `opa test -b`. */
  bundle?: boolean;
  verbose?: boolean;
  run?: string;
  format?: 'pretty' | 'json' | 'gobench';
  coverage?: boolean;
  threshold?: number;
  strict?: boolean;
  /** Strict builtin errors (default true, as the gateway): a failing builtin is an error, not undefined. */
  strictBuiltinErrors?: boolean;
  /** `-z`: skipped tests do not make the exit code 2. */
  exitZeroOnSkipped?: boolean;
  /** Per-test timeout, a Go duration (`5s`, `250ms`); default 5s, 30s with --bench. */
  timeout?: string;
  /** Repeat the whole run (default 1). */
  count?: number;
  /** File and directory names to ignore while loading (globs on the base name). */
  ignore?: string[];
  failOnEmpty?: boolean;
  bench?: boolean;
  /** Benchmark time per test in ns (Go's -test.benchtime; default 1s). */
  benchNs?: number;
  /** `--explain`: which trace events to show for failures (implies -v, as OPA). */
  explain?: ExplainMode;
  /** `--var-values`: show the failing expression with its variables' values. */
  varValues?: boolean;
}

export interface TestRun {
  results: TestResult[];
  errors: RegoError[]; // load/parse/compile errors (exit 1)
  coverage?: CoverageReport;
  /** Time spent compiling the tests to WASM. */
  compileNs?: number;
}

interface Prepared {
  /** Trace nodes when the tests were compiled with tracing. */
  trace?: TraceNodeInfo[];
  tests: DiscoveredTest[];
  parsed: Array<{ file: string; module: Module }>;
  evaluator?: TestEvaluator;
  recorder: CoverageRecorder;
  compileNs?: number;
}

function testFilter(run: string | undefined): ((name: string) => boolean) | RegoError {
  if (!run) return () => true;
  try {
    const re = RE2JS.compile(run);
    return (name) => re.matcher(name).find();
  } catch (e) {
    return { code: 'rego_load_error', message: `error parsing regexp: ${(e as Error).message}` };
  }
}

async function prepare(opts: TestOptions): Promise<Prepared | RegoError[]> {
  let sources;
  try {
    sources = opts.bundle ? await loadSources([], opts.paths, opts.ignore) : await loadSources(opts.paths, [], opts.ignore);
  } catch (e) {
    return [loadErrorOf(e)];
  }
  const parsed: Array<{ file: string; module: Module }> = [];
  const rewritten: Array<{ file: string; module: Module }> = [];
  const errors: RegoError[] = [];
  for (const m of sources.modules) {
    const r = parseModule(m.source, m.file);
    errors.push(...r.errors);
    if (r.module) {
      parsed.push({ file: m.file, module: r.module });
      rewritten.push({ file: m.file, module: ast.clone(r.module) });
    }
  }
  if (errors.length > 0) return errors;
  const filter = testFilter(opts.run);
  if (typeof filter !== 'function') return [filter];
  renameDuplicateTests(rewritten);
  injectTestCases(rewritten);
  const tests = discoverTests(rewritten).filter((t) => filter(`${t.package}.${t.name}`));
  const recorder = new CoverageRecorder();
  const runnable = tests.filter((t) => !t.skip);
  const schemas = await loadSchemaOptions(opts);
  if ('code' in schemas) return [schemas];
  if (runnable.length === 0) {
    // Nothing to run, but the modules must still compile (as OPA compiles them before running).
    const errs = check({ modules: rewritten.map((m, i) => ({ file: m.file, source: sources.modules[i]!.source, parsed: m.module })), strict: opts.strict, schemas }).errors;
    return errs.length > 0 ? errs : { tests, parsed, recorder };
  }
  prewarm(); // the evaluation worker boots while the tests compile
  const started = process.hrtime.bigint();
  const out = await compile({
    modules: rewritten.map((m, i) => ({ file: m.file, source: sources.modules[i]!.source, parsed: m.module })),
    entrypoints: [...new Set(runnable.map((t) => t.entrypoint))],
    strict: opts.strict,
    strictBuiltinErrors: opts.strictBuiltinErrors ?? true,
    coverage: opts.coverage,
    schemas,
    print: !opts.bench, // as OPA: print statements are kept except when benchmarking
    trace: tracing(opts),
  });
  if (out.errors.length > 0 || !out.wasm) return out.errors.length ? out.errors : [{ code: 'rego_compile_error', message: 'no module produced' }];
  const evaluator = new TestEvaluator({ wasm: out.wasm, data: sources.data, strictBuiltinErrors: opts.strictBuiltinErrors ?? true, coverage: !!opts.coverage, trace: tracing(opts) });
  return { tests, parsed, evaluator, recorder, compileNs: Number(process.hrtime.bigint() - started), trace: out.trace };
}

/** OPA's EnableTracing(verbose || varValues); coverage and benchmarks run without it. */
function tracing(opts: TestOptions): boolean {
  return (!!opts.verbose || !!opts.explain || !!opts.varValues) && !opts.coverage && !opts.bench;
}

async function runOnce(p: Prepared, opts: TestOptions, timeoutMs: number): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const t of p.tests) {
    const base = { location: t.location, package: t.package, name: t.name };
    if (t.skip || !p.evaluator) {
      results.push({ ...base, duration: 0, skip: true });
      continue;
    }
    const reply = await p.evaluator.run({ entrypoint: t.entrypoint, benchNs: opts.bench ? (opts.benchNs ?? 1e9) : undefined }, timeoutMs);
    for (const [file, rows] of reply.covered) p.recorder.add(file, rows);
    if (reply.error) {
      results.push({ error: reply.error, ...base, ...(reply.output ? { output: reply.output } : {}), duration: reply.durationNs });
      continue;
    }
    const v = verdict({ defined: reply.defined, value: reply.value, partialObject: t.partialObject, testCases: reply.testCases });
    const r: TestResult = { location: t.location, ...(v.sub_results ? { sub_results: v.sub_results } : {}), package: t.package, name: t.name, duration: reply.durationNs };
    if (reply.output) r.output = reply.output;
    if (p.trace && reply.trace) r.trace = filterTrace(traceEvents(reply.trace, p.trace, `${t.package}.${t.name} = _`, reply.defined), opts.explain);
    if (reply.bench) {
      r.benchmark_result = { N: reply.bench.N, T: reply.bench.T, Bytes: 0, MemAllocs: 0, MemBytes: 0, Extra: null };
      r.duration = reply.bench.T;
    }
    if (v.fail) r.fail = true;
    results.push(r);
  }
  return results;
}

/** Runs the tests once (for callers that want the results, not the CLI output). */
export async function runTests(opts: TestOptions): Promise<TestRun> {
  const p = await prepare(opts);
  if (Array.isArray(p)) return { results: [], errors: p };
  try {
    const results = await runOnce(p, opts, timeoutMsOf(opts) as number);
    const run: TestRun = { results, errors: [], compileNs: p.compileNs };
    if (opts.coverage) run.coverage = buildReport(p.parsed, p.recorder);
    return run;
  } finally {
    await p.evaluator?.close();
  }
}

function timeoutMsOf(opts: TestOptions): number | string {
  const fallback = opts.bench ? 30_000 : 5_000;
  if (opts.timeout === undefined) return fallback;
  const ns = parseGoDuration(opts.timeout);
  if (typeof ns === 'string') return ns;
  return ns === 0 ? fallback : ns / 1e6;
}

export async function runTestCommand(opts: TestOptions): Promise<CliResult> {
  const fail = (stderr: string, exitCode = 1): CliResult => ({ stdout: '', stderr, exitCode });
  const format = opts.format ?? 'pretty';
  if (format === 'gobench' && !opts.bench) return { stdout: '', stderr: 'cannot use output format gobench without running benchmarks (--bench)\n', exitCode: 0 };
  const threshold = opts.threshold ?? 0;
  if (!(threshold >= 0 && threshold <= 100)) return fail('Code coverage threshold must be between 0 and 100\n');
  // As OPA: a threshold turns coverage on.
  const coverage = !!opts.coverage || threshold > 0;
  if (coverage && opts.bench) return fail('coverage reporting is not supported when benchmarking tests\n');
  const timeoutMs = timeoutMsOf(opts);
  if (typeof timeoutMs === 'string') return fail(`invalid argument "${opts.timeout}" for "--timeout" flag: ${timeoutMs}\n`);
  // As OPA: --explain turns verbose on.
  const run = { ...opts, coverage, verbose: !!opts.verbose || !!opts.explain };
  const p = await prepare(run);
  if (Array.isArray(p)) return fail(errorsText(p));
  let stdout = '';
  let stderr = '';
  try {
    for (let i = 0; i < (opts.count ?? 1); i++) {
      const results = await runOnce(p, run, timeoutMs);
      if (coverage) {
        // OPA's JSONCoverageReporter: an error or a failure ends the run (exit 1); then the threshold.
        const error = results.find((r) => r.error);
        if (error) return { stdout, stderr: stderr + `${evalErrorText(error.error!)}\n`, exitCode: 1 };
        const failures = results.filter((r) => r.fail);
        if (failures.length > 0) {
          return { stdout: stdout + prettyReport(failures, { verbose: opts.verbose }), stderr: stderr + resultString(failures[0]!) + '\n', exitCode: 1 };
        }
        const report = buildReport(p.parsed, p.recorder);
        if (report.coverage < threshold) return { stdout, stderr: stderr + thresholdError(report, threshold, !!opts.verbose), exitCode: 2 };
        stdout += JSON.stringify(report, null, 2) + '\n';
        continue;
      }
      stdout += format === 'json' ? jsonReport(results) : prettyReport(results, { verbose: run.verbose, varValues: opts.varValues, benchmark: opts.bench, goBench: format === 'gobench' });
      if (results.length === 0 && opts.failOnEmpty) return { stdout, stderr: stderr + 'no tests were run\n', exitCode: 1 };
      if (results.some((r) => !r.skip && (r.fail || r.error)) || (!opts.exitZeroOnSkipped && results.some((r) => r.skip))) return { stdout, stderr, exitCode: 2 };
    }
  } finally {
    await p.evaluator?.close();
  }
  return { stdout, stderr, exitCode: 0 };
}
