import type { TraceEvent } from './trace.js';
// Test results as OPA's tester builds them (v1/tester/runner.go): Result, SubResult and the
// verdict rules. A test passes only when its value is `true`; a partial-object test passes when
// every case (every key of its value, and every `internal.test_case` call seen while
// evaluating it) passed.

export interface SubResult {
  sub_results?: SubResultMap;
  name?: string;
  fail?: boolean;
}
export type SubResultMap = Record<string, SubResult>;

export interface BenchmarkResult {
  N: number;
  T: number;
  Bytes: number;
  MemAllocs: number;
  MemBytes: number;
  Extra: Record<string, number> | null;
}

/** One test's result; field order and omissions follow OPA's JSON (Go struct order, omitempty). */
export interface TestResult {
  error?: { code: string; message: string; location?: { file: string; row: number; col: number } };
  location: { file: string; row: number; col: number };
  benchmark_result?: BenchmarkResult;
  sub_results?: SubResultMap;
  package: string;
  name: string;
  /** What print() wrote while the test ran (OPA's Output; base64 in JSON, as Go encodes []byte). */
  output?: string;
  duration: number; // ns, as Go's time.Duration in JSON
  fail?: boolean;
  skip?: boolean;
  /** The evaluation trace as filtered for the report (pretty output only; not in JSON). */
  trace?: TraceEvent[];
}

export const passed = (r: TestResult): boolean => !r.fail && !r.skip && !r.error;

export function outcome(r: TestResult): 'PASS' | 'FAIL' | 'SKIPPED' | 'ERROR' {
  if (passed(r)) return 'PASS';
  if (r.fail) return 'FAIL';
  if (r.skip) return 'SKIPPED';
  return 'ERROR';
}

const GO_HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** OPA's termToString for a test-case name: strings as they are, anything else as Go's JSON encoder writes it. */
export function caseName(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(sortKeys(v)).replace(/[<>&\u2028\u2029]/g, (c) => GO_HTML_ESCAPES[c]!);
}

function subResult(name: string, v: unknown): SubResult {
  if (v === undefined || v === null) return {};
  if (typeof v === 'object' && !Array.isArray(v)) {
    const { fail, results } = subResults(v);
    return withoutEmpty({ sub_results: results, name, fail });
  }
  if (typeof v === 'boolean') return withoutEmpty({ name, fail: !v });
  return { name, fail: true };
}

function withoutEmpty(s: SubResult): SubResult {
  const out: SubResult = {};
  if (s.sub_results && Object.keys(s.sub_results).length > 0) out.sub_results = s.sub_results;
  if (s.name) out.name = s.name;
  if (s.fail) out.fail = true;
  return out;
}

/** SubResultMap.update: records a test case seen in evaluation; a case absent from the value failed. */
function update(map: SubResultMap, path: string[], i: number): boolean {
  if (i >= path.length) return true;
  const k = path[i]!;
  let entry = map[k];
  if (!entry) map[k] = entry = { name: k, fail: true, sub_results: {} };
  if (i === path.length - 1) return !!entry.fail;
  entry.sub_results ??= {};
  const fail = update(entry.sub_results, path, i + 1);
  if (fail) entry.fail = true;
  return fail;
}

function tidy(map: SubResultMap): SubResultMap {
  const out: SubResultMap = {};
  for (const k of Object.keys(map).sort()) {
    const s = map[k]!;
    out[k] = withoutEmpty({ ...s, sub_results: s.sub_results ? tidy(s.sub_results) : undefined });
  }
  return out;
}

/** OPA's subResults: from the test's value (an object of cases) and the test-case calls seen. */
export function subResults(value: unknown, testCases: unknown[][] = []): { fail: boolean; results: SubResultMap } {
  let fail = false;
  const results: SubResultMap = {};
  if (value === undefined || value === null) return { fail: true, results };
  if (typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      const sr = subResult(k, v);
      results[k] = sr;
      if (sr.fail) fail = true;
    }
  }
  for (const tc of testCases) {
    if (update(results, tc.map(caseName), 0)) fail = true;
  }
  return { fail, results: tidy(results) };
}

/** Depth-first over sub-results, keys sorted: (full name, sub-result). */
export function* iterSubResults(map: SubResultMap | undefined, prefix: string[] = []): Generator<[string[], SubResult]> {
  if (!map) return;
  for (const k of Object.keys(map).sort()) {
    const sr = map[k]!;
    const full = [...prefix, k];
    yield [full, sr];
    yield* iterSubResults(sr.sub_results, full);
  }
}

/** The verdict of one evaluation (OPA's runTest after Eval). */
export function verdict(r: { defined: boolean; value?: unknown; partialObject: boolean; testCases: unknown[][] }): Pick<TestResult, 'fail' | 'sub_results'> {
  if (!r.defined) return { fail: true };
  if (r.partialObject) {
    const { fail, results } = subResults(r.value, r.testCases);
    return { ...(fail ? { fail: true } : {}), ...(Object.keys(results).length > 0 ? { sub_results: results } : {}) };
  }
  return r.value === true ? {} : { fail: true };
}
