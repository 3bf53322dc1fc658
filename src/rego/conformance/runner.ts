// Runs OPA conformance cases through our compiler and the official SDK.
// A case passes only by evaluation: the expected results are never shown to the compiler.
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { isDeepStrictEqual } from 'node:util';
import { compareTerms } from '../ast/compare.js';
import { jsonToTerm } from '../ast/json.js';
import { compile } from '../index.js';
import type { LoadedCase } from './cases.js';

export type Outcome = 'passed' | 'failed' | 'errored' | 'excluded';

export interface CaseResult {
  note: string;
  topic: string;
  outcome: Outcome;
  detail?: string;
  ms: number;
}

export interface RunOptions {
  /** Force the SDK's slow path (eval + ctx calls) instead of opa_eval. */
  slowPath?: boolean;
  /** note -> reason, for cases that cannot pass here (network, randomness). */
  exclusions?: Record<string, string>;
  /** The project's host builtins (issue 5), made for strict or OPA-default builtin errors. */
  hostBuiltins?: (strict: boolean) => Record<string, (...args: unknown[]) => unknown>;
  /** Compile modules without the WASM exception-handling proposal (default: with). */
  exceptionHandling?: boolean;
  /** Also require an expected error's `want_error` text in the error's message (the project's own cases). */
  checkErrorText?: boolean;
}

interface Expectation {
  error?: { code?: string; text?: string };
  results?: Array<Record<string, unknown>>;
}

/** What OPA's planner path is expected to give: `want_plan_result` wins; null means an error. */
export function expectationOf(c: LoadedCase): Expectation {
  if (Array.isArray(c.want_plan_result)) return { results: c.want_plan_result };
  const code = c.want_error_code ?? /\b([a-z_]+_error)\b/.exec(c.want_error ?? '')?.[1];
  return { error: { code, text: c.want_error } };
}

/** The error code in a thrown value: `eval_conflict_error: ...` from opa_abort, or a compile error. */
export function errorCodeOf(err: unknown): string | undefined {
  const text = typeof err === 'string' ? err : err instanceof Error ? err.message : (err as { message?: string })?.message ?? String(err);
  return /\b([a-z_]+_error)\b/.exec(text)?.[1];
}

/**
 * The input as the SDK gets it. An `input_term` goes as the JSON text OPA's harness makes of
 * it (ast.JSON: exact numbers, sets as arrays, other keys as their JSON text); Rego-only
 * syntax (sets, unquoted keys...) is read with our parser first.
 */
async function inputOf(c: LoadedCase): Promise<unknown> {
  if (c.input_term === undefined) return c.input;
  const parser = await import('../parser/index.js');
  const ast = await import('../ast/json.js');
  const parsed = parser.parseTerm(c.input_term);
  if (!parsed.term) throw new Error(`input_term does not parse: ${parsed.errors.map((e) => e.message).join('; ')}`);
  const bytes = new TextEncoder().encode(ast.valueToJSONText(parsed.term.value));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/**
 * Compares result sets as OPA's own conformance harnesses do (v1/topdown and the WASM SDK
 * tests): the rows form a set, and with `sort_bindings` every binding value that is an array
 * is sorted in OPA's value order first.
 */
function sameResults(got: unknown, want: Array<Record<string, unknown>>, c: LoadedCase): boolean {
  if (!Array.isArray(got)) return false;
  const clean = (rows: unknown[]) =>
    rows.map((r) => {
      if (typeof r !== 'object' || r === null) return r;
      const entries = Object.entries(r).filter(([k]) => !c.ignore_generated_vars || !k.startsWith('__'));
      return Object.fromEntries(entries.map(([k, v]) => [k, c.sort_bindings && Array.isArray(v) ? sortInOpaOrder(v) : v]));
    });
  const key = (v: unknown) => JSON.stringify(normalize(v));
  const g = clean(got).map(key).sort();
  const w = clean(want).map(key).sort();
  return isDeepStrictEqual([...new Set(g)], [...new Set(w)]);
}

function sortInOpaOrder(values: unknown[]): unknown[] {
  return values
    .map((v) => ({ v, t: jsonToTerm(v) }))
    .sort((a, b) => compareTerms(a.t, b.t))
    .map((x) => x.v);
}

/** Sorts object keys so that deep equality does not depend on key order. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalize((v as Record<string, unknown>)[k])]));
  }
  return v;
}

export async function runCase(c: LoadedCase, opts: RunOptions = {}): Promise<CaseResult> {
  const started = performance.now();
  const done = (outcome: Outcome, detail?: string): CaseResult => ({
    note: c.note,
    topic: c.topic,
    outcome,
    detail,
    ms: performance.now() - started,
  });
  const reason = opts.exclusions?.[c.note];
  if (reason !== undefined) return done('excluded', reason);

  const want = expectationOf(c);
  // `strict_error` is OPA's StrictBuiltinErrors for the case. Where OPA expects results as well
  // (topdown returns results *and* the deferred error on one strict run, which a WASM call cannot),
  // the results are checked as OPA's own WASM harness checks them: without strict errors.
  const strict = c.strict_error === true && want.error !== undefined;
  const modules = (c.modules ?? []).map((source, i) => ({ file: `test-${i}.rego`, source }));
  let compiled;
  try {
    compiled = await compile({ modules, queries: [{ name: 'eval', query: c.query }], strictBuiltinErrors: strict, exceptionHandling: opts.exceptionHandling });
  } catch (err) {
    return done('errored', `compiler threw: ${describe(err)}`);
  }
  const textOk = (message: string) => !opts.checkErrorText || !want.error?.text || message.includes(want.error.text);
  if (compiled.errors.length > 0 || !compiled.wasm) {
    const codes = compiled.errors.map((e) => e.code);
    if (want.error && (!want.error.code || codes.includes(want.error.code)) && compiled.errors.some((e) => textOk(e.message))) return done('passed');
    const text = compiled.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    return done(want.error ? 'failed' : 'errored', `compile errors: ${text}${want.error ? ` (wanted ${want.error.code})` : ''}`);
  }

  let result: unknown;
  try {
    const policy = await loadPolicy(compiled.wasm, undefined, opts.hostBuiltins?.(strict) as never);
    if (opts.slowPath) (policy as unknown as { minorVersion: number }).minorVersion = 1;
    if (c.data !== undefined) policy.setData(c.data as object);
    result = policy.evaluate(await inputOf(c), 'eval');
  } catch (err) {
    const code = errorCodeOf(err);
    if (want.error && (!want.error.code || want.error.code === code) && textOk(describe(err))) return done('passed');
    if (want.error) return done('failed', `wanted ${want.error.code}, got error: ${describe(err)}`);
    return done(code ? 'failed' : 'errored', `evaluation threw: ${describe(err)}`);
  }
  if (want.error) return done('failed', `wanted ${want.error.code ?? 'an error'}, got ${JSON.stringify(result)}`);
  if (sameResults(result, want.results ?? [], c)) return done('passed');
  return done('failed', `got ${JSON.stringify(result)}, want ${JSON.stringify(want.results)}`);
}

function describe(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

export interface Tally {
  passed: number;
  failed: number;
  errored: number;
  excluded: number;
  total: number;
}

export function tally(results: CaseResult[]): Tally {
  const t: Tally = { passed: 0, failed: 0, errored: 0, excluded: 0, total: 0 };
  for (const r of results) {
    t[r.outcome]++;
    if (r.outcome !== 'excluded') t.total++;
  }
  return t;
}
