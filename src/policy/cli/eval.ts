// `bastion policy eval`: like `opa eval`, but the query is compiled to WASM by our compiler and
// evaluated through @open-policy-agent/opa-wasm, the gateway's own path.
//
// To report each expression's value (the `expressions` of OPA's result), the query is rewritten
// as OPA's rego package does (rewriteQueryToCaptureValue): a bare term `t` becomes
// `bastion__eN = t`, and with more than one expression the capture var is checked afterwards
// (so `false` still fails there). Comparisons, unifications and assignments report `true`.
import { readFile } from 'node:fs/promises';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile, parseEvalError, parseQuery, printBuiltin, type Expr, type RegoError, type Term } from '../../rego/index.js';
import { hostBuiltins } from '../builtins.js';
import { loadSchemaOptions, type SchemaFlags } from './schemas.js';
import { jsonErrors, loadErrorOf, loadSources, prettyErrors, type CliResult } from './common.js';

export type EvalFormat = 'json' | 'pretty' | 'raw' | 'values' | 'bindings';

export interface EvalOptions extends SchemaFlags {
  query: string;
  data?: string[];
  bundles?: string[];
  input?: string; // path to a JSON or YAML file
  format?: EvalFormat;
  fail?: boolean; // exit 1 when the result is undefined
  failDefined?: boolean; // exit 1 when the result is defined
  strict?: boolean;
  /** Strict builtin errors (default true, as the gateway): a failing builtin is an error, not undefined. */
  strictBuiltinErrors?: boolean;
}

interface ExpressionValue {
  value: unknown;
  text: string;
  location: { row: number; col: number };
}
export interface EvalResult {
  expressions: ExpressionValue[];
  bindings?: Record<string, unknown>;
}

const CAPTURE = 'bastion__e';
// Operators whose expression value is simply `true` when the expression succeeds.
const RELATIONS = new Set(['eq', 'assign', 'equal', 'neq', 'lt', 'gt', 'lte', 'gte', 'internal.member_2', 'internal.member_3']);

function operatorName(t: Term): string {
  if (t.value.type === 'var') return t.value.value;
  if (t.value.type !== 'ref') return '';
  return t.value.value.map((p) => (p.value.type === 'var' || p.value.type === 'string' ? p.value.value : '?')).join('.');
}

interface Rewritten {
  query: string;
  exprs: Array<{ text: string; row: number; col: number; capture?: string }>;
}

export function rewriteQuery(query: string): { rewritten?: Rewritten; errors: RegoError[] } {
  const parsed = parseQuery(query, '');
  if (!parsed.body) return { errors: parsed.errors };
  if (parsed.body.length === 0) return { errors: [{ code: 'rego_parse_error', message: 'empty query' }] };
  const body = parsed.body;
  const checkCapture = body.length > 1;
  const parts: string[] = [];
  const checks: string[] = [];
  const exprs: Rewritten['exprs'] = [];
  body.forEach((e: Expr, i) => {
    const text = e.location?.text ?? '';
    const info = { text, row: e.location?.row ?? 1, col: e.location?.col ?? 1 };
    const withText = e.with.map((w) => w.location?.text ?? '').join(' ');
    const core = e.with.length > 0 && e.with[0]!.location ? query.slice(e.location!.offset, e.with[0]!.location.offset).trim() : text;
    const terms = e.terms;
    let capturable = false;
    if (!e.negated) {
      if (Array.isArray(terms)) capturable = !RELATIONS.has(operatorName(terms[0]!));
      else capturable = !('type' in terms); // a bare term (not `some`/`every`)
    }
    if (!capturable) {
      parts.push(text);
      exprs.push(info);
      return;
    }
    const v = `${CAPTURE}${i}`;
    parts.push(`${v} = ${core}${withText ? ' ' + withText : ''}`);
    if (checkCapture) checks.push(v);
    exprs.push({ ...info, capture: v });
  });
  return { rewritten: { query: [...parts, ...checks].join('\n'), exprs }, errors: [] };
}

async function readInput(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  if (/\.ya?ml$/.test(path)) return (await import('yaml')).default.parse(text);
  return JSON.parse(text);
}

export async function evalQuery(opts: EvalOptions): Promise<{ results?: EvalResult[]; errors: RegoError[]; printed?: string }> {
  let sources;
  let input: unknown;
  try {
    sources = await loadSources(opts.data ?? [], opts.bundles ?? []);
    if (opts.input) input = await readInput(opts.input);
  } catch (e) {
    return { errors: [loadErrorOf(e)] };
  }
  const rw = rewriteQuery(opts.query);
  if (!rw.rewritten) return { errors: rw.errors };
  const schemas = await loadSchemaOptions(opts);
  if ('code' in schemas) return { errors: [schemas] };
  const out = await compile({ modules: sources.modules, queries: [{ name: 'eval', query: rw.rewritten.query }], strict: opts.strict, strictBuiltinErrors: opts.strictBuiltinErrors ?? true, print: true, schemas });
  if (out.errors.length > 0 || !out.wasm) {
    // Errors about the capture variables only echo an error of the user's own expression.
    const own = out.errors.filter((e) => !e.message.includes(CAPTURE));
    return { errors: own.length ? own : out.errors.length ? out.errors : [{ code: 'rego_compile_error', message: 'no module produced' }] };
  }
  let rs: unknown;
  let printed = '';
  try {
    // As `opa eval`: print() output goes to stderr.
    const printHook = printBuiltin((line) => (printed += line + '\n'));
    const policy = await loadPolicy(out.wasm, undefined, { ...(await hostBuiltins(opts.strictBuiltinErrors ?? true)), ...printHook });
    policy.setData(sources.data);
    rs = policy.evaluate(input, 'eval');
  } catch (e) {
    const err = parseEvalError(e);
    return { errors: [{ code: err.code, message: err.message, ...(err.location ? { location: { ...err.location, offset: 0 } } : {}) }], printed };
  }
  const results: EvalResult[] = [];
  for (const row of (Array.isArray(rs) ? rs : []) as Array<Record<string, unknown>>) {
    const expressions = rw.rewritten.exprs.map((x) => ({
      value: x.capture ? row[x.capture] : true,
      text: x.text,
      location: { row: x.row, col: x.col },
    }));
    const bindings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (!k.startsWith(CAPTURE) && !k.startsWith('_') && !k.startsWith('$')) bindings[k] = v;
    }
    results.push(Object.keys(bindings).length > 0 ? { expressions, bindings } : { expressions });
  }
  return { results, errors: [], printed };
}

export async function runEval(opts: EvalOptions): Promise<CliResult> {
  const format = opts.format ?? 'json';
  const { results, errors, printed = '' } = await evalQuery(opts);
  if (!results) {
    return format === 'json' ? { stdout: jsonErrors(errors), stderr: printed, exitCode: 1 } : { stdout: '', stderr: printed + prettyErrors(errors), exitCode: 1 };
  }
  const defined = results.length > 0;
  const exitCode = (opts.fail && !defined) || (opts.failDefined && defined) ? 1 : 0;
  let stdout: string;
  switch (format) {
    case 'json':
      stdout = JSON.stringify(defined ? { result: results } : {}, null, 2) + '\n';
      break;
    case 'values':
      stdout = JSON.stringify(results.map((r) => r.expressions.map((e) => e.value)), null, 2) + '\n';
      break;
    case 'bindings':
      stdout = JSON.stringify(results.map((r) => r.bindings ?? {}), null, 2) + '\n';
      break;
    case 'raw': {
      // OPA's raw: the value of each expression; strings unquoted.
      const lines = results.flatMap((r) => r.expressions.map((e) => (typeof e.value === 'string' ? e.value : JSON.stringify(e.value))));
      stdout = lines.length ? lines.join('\n') + '\n' : '';
      break;
    }
    case 'pretty': {
      if (!defined) stdout = 'undefined\n';
      else if (results.length === 1 && results[0]!.expressions.length === 1 && !results[0]!.bindings) {
        stdout = JSON.stringify(results[0]!.expressions[0]!.value, null, 2) + '\n';
      } else {
        stdout = prettyTable(results);
      }
      break;
    }
  }
  return { stdout, stderr: printed, exitCode };
}

// A table like OPA's pretty output: one column per binding and per non-boolean expression.
function prettyTable(results: EvalResult[]): string {
  const first = results[0]!;
  const bindingKeys = Object.keys(first.bindings ?? {});
  const exprCols = first.expressions.map((e, i) => ({ i, text: e.text })).filter((c) => results.some((r) => r.expressions[c.i]!.value !== true));
  const header = [...bindingKeys, ...exprCols.map((c) => c.text)];
  if (header.length === 0) return 'true\n';
  const rows = results.map((r) => [...bindingKeys.map((k) => JSON.stringify(r.bindings?.[k])), ...exprCols.map((c) => JSON.stringify(r.expressions[c.i]!.value))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const fmt = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line, fmt(header), line, ...rows.map(fmt), line].join('\n') + '\n';
}
