// OPA's test reporters (v1/tester/reporter.go): PrettyReporter (with its FAILURES section and
// benchmark lines) and JSONReporter.
import { evalErrorText } from '../../../rego/index.js';
import { goDuration } from '../common.js';
import { failureText } from './trace.js';
import { iterSubResults, outcome, passed, type BenchmarkResult, type TestResult } from './results.js';

const HL = '-'.repeat(80);

/** OPA's indentingWriter on text without a trailing newline: `n` spaces before every line. */
export function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** `data.pkg.test_x: FAIL (1.2ms)`; skipped tests have no duration. */
export function resultLine(r: TestResult): string {
  if (r.skip) return `${r.package}.${r.name}: SKIPPED`;
  return `${r.package}.${r.name}: ${outcome(r)} (${goDuration(r.duration)})`;
}

/** Result.String(): the line, then every sub-result indented by depth. */
export function resultString(r: TestResult): string {
  let s = resultLine(r) + '\n';
  for (const [full, sr] of iterSubResults(r.sub_results)) s += `${'  '.repeat(full.length)}${sr.name ?? ''}: ${sr.fail ? 'FAIL' : 'PASS'}\n`;
  return s;
}

/** Go's testing prettyPrint of a per-op figure. */
function prettyFigure(x: number, unit: string): string {
  const y = Math.abs(x);
  const [width, digits] =
    y === 0 || y >= 999.95 ? [10, 0] : y >= 99.995 ? [12, 1] : y >= 9.9995 ? [13, 2] : y >= 0.99995 ? [14, 3] : y >= 0.099995 ? [15, 4] : y >= 0.0099995 ? [16, 5] : y >= 0.00099995 ? [17, 6] : [18, 7];
  return `${x.toFixed(digits).padStart(width)} ${unit}`;
}

/** Go's BenchmarkResult.String(): iterations, then ns/op. */
export function benchmarkString(b: BenchmarkResult): string {
  let s = String(b.N).padStart(8);
  const ns = b.T / b.N;
  if (ns !== 0) s += '\t' + prettyFigure(ns, 'ns/op');
  for (const k of Object.keys(b.Extra ?? {}).sort()) s += '\t' + prettyFigure(b.Extra![k]!, k);
  return s;
}

/** `BenchmarkDataFooBarTestAuth`: the name in Go's benchmark data format. */
function goBenchName(name: string): string {
  return 'Benchmark' + name.replace(/_/g, '.').split('.').map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : '')).join('');
}

export interface PrettyOptions {
  verbose?: boolean;
  /** --var-values: the failing expression of each failure with its variables' values (OPA's FailureLine + LocalVars). */
  varValues?: boolean;
  benchmark?: boolean;
  goBench?: boolean;
}

export function prettyReport(results: TestResult[], o: PrettyOptions = {}): string {
  const out: string[] = [];
  const println = (s = ''): void => void out.push(s + '\n');
  let dirty = false;
  let pass = 0;
  let fail = 0;
  let skip = 0;
  let errs = 0;
  const failures: TestResult[] = [];
  let lastFile = '';
  for (const r of results) {
    if (r.skip) skip++;
    else if (r.error) errs++;
    else {
      if (r.fail) failures.push(r);
      if (r.sub_results && Object.keys(r.sub_results).length > 0) {
        for (const [, sr] of iterSubResults(r.sub_results)) {
          if (!sr.sub_results) {
            if (sr.fail) fail++;
            else pass++;
          }
        }
      } else if (passed(r)) pass++;
      else if (r.fail) fail++;
    }
    if (passed(r) && o.benchmark) {
      dirty = true;
      const name = `${r.package}.${r.name}`;
      println(r.benchmark_result ? `${o.goBench ? goBenchName(name) : name}\t${benchmarkString(r.benchmark_result)}` : '');
    } else if (o.verbose || !passed(r)) {
      if (lastFile !== '' && lastFile !== r.location.file) println();
      println(`${r.location.file}:${r.location.row}:`);
      lastFile = r.location.file;
      dirty = true;
      println(resultLine(r));
      for (const [full, sr] of iterSubResults(r.sub_results)) {
        if (sr.fail || o.verbose) println(`  ${'  '.repeat(full.length - 1)}${sr.name ?? ''}: ${sr.fail ? 'FAIL' : 'PASS'}`);
      }
      if (r.output) {
        println();
        println(indent(r.output.trim(), 2));
        println();
      }
    }
    if (r.error) println(`  ${evalErrorText(r.error)}`);
  }
  // The failure details (OPA prints the evaluation trace of each failure here).
  if (fail > 0 && (o.verbose || o.varValues)) {
    const fo = { verbose: !!o.verbose, failureLine: !!o.varValues, localVars: !!o.varValues };
    println(HL);
    println('FAILURES');
    println(HL);
    for (const f of failures) {
      println(resultLine(f));
      if (f.sub_results && Object.keys(f.sub_results).length > 0) {
        // the trace of all cases together; per case only its lineage (no per-case trace here)
        out.push(failureText(f.trace, { ...fo, failureLine: false }));
        println();
        for (const [full, sr] of iterSubResults(f.sub_results)) {
          if (!sr.fail || sr.sub_results) continue;
          full.forEach((n, depth) => println(`${'  '.repeat(depth + 1)}${n}: FAIL`));
          if (fo.failureLine) println();
        }
      } else out.push(failureText(f.trace, fo));
      println();
    }
  }
  if (dirty) println(HL);
  const total = pass + fail + skip + errs;
  if (pass) println(`PASS: ${pass}/${total}`);
  if (fail) println(`FAIL: ${fail}/${total}`);
  if (skip) println(`SKIPPED: ${skip}/${total}`);
  if (errs) println(`ERROR: ${errs}/${total}`);
  return out.join('');
}

/** One result as OPA's JSON encoder writes it (Go struct field order, omitempty). */
function jsonResult(r: TestResult): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (r.error) o.error = r.error;
  o.location = r.location;
  if (r.benchmark_result) o.benchmark_result = r.benchmark_result;
  if (r.sub_results && Object.keys(r.sub_results).length > 0) o.sub_results = r.sub_results;
  o.package = r.package;
  o.name = r.name;
  if (r.output) o.output = Buffer.from(r.output).toString('base64');
  o.duration = r.duration;
  if (r.fail) o.fail = true;
  if (r.skip) o.skip = true;
  return o;
}

export function jsonReport(results: TestResult[]): string {
  return JSON.stringify(results.map(jsonResult), null, 2) + '\n';
}
