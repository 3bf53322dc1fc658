// Public surface of the Rego toolchain. Nothing here imports from the gateway: the
// toolchain could be published on its own.
//
// compile(): parse (src/rego/parser) -> compile (src/rego/compiler) -> plan (src/rego/planner)
// -> emit WASM (src/rego/wasm). Any failure of any stage comes back as `{errors}` with OPA's
// error codes; bad policies never make compile() throw.
import type { Body, Module, RegoError, Term } from './ast/types.js';
import type { CompileInput, CompileOutput } from './compiler/types.js';
import type { Policy } from './ir/types.js';
import { parseModule, parseQuery } from './parser/index.js';
import { PlanError, planPolicy } from './planner/planner.js';

export type { RegoError } from './ast/types.js';
export type { Body, Comment, Expr, Head, Import, Location, Module, Rule, Term, Value, With } from './ast/types.js';
export { parseModule, parseQuery, parseTerm } from './parser/index.js';
export { formatModule, formatSource } from './format/index.js';

export interface SourceModule {
  file: string; // name used in error locations, e.g. `policies/sip/decision.rego`
  source: string;
  /**
   * The module already parsed from `source` (and possibly rewritten by the caller, e.g. the test
   * runner's renaming of duplicate tests); used instead of parsing `source` again.
   */
  parsed?: Module;
}

export interface CompileOptions {
  modules: SourceModule[];
  /** Entrypoints as OPA paths (`sip/decision`): each plans the query `data.sip.decision`, result key `result`. */
  entrypoints?: string[];
  /** Ad-hoc queries (e.g. `data.test.p = x`): each becomes a plan whose result set holds its bindings. */
  queries?: Array<{ name: string; query: string }>;
  /** OPA strict mode. */
  strict?: boolean;
  /**
   * OPA's `StrictBuiltinErrors`. Off (OPA's default), a builtin call that fails with a type or
   * builtin error is undefined and evaluation goes on. On, evaluation goes on the same way
   * (as OPA's topdown does) and the first such error is raised when it ends, so the caller gets
   * the error instead of results. Conflict errors abort at once either way. Host builtins
   * follow the strictness of the host builtins the caller registers.
   */
  strictBuiltinErrors?: boolean;
  /** Run binaryen's optimizer on the linked module (slower compile, smaller/faster module). */
  optimize?: boolean;
  /** Instrument for test coverage: calls host builtin `internal.bastion_cover(file, row)`. */
  coverage?: boolean;
}

export interface CompileResult {
  wasm?: Uint8Array; // absent when errors is non-empty
  errors: RegoError[];
  /** Entrypoint name -> id, as the module's `entrypoints()` export reports them. */
  entrypoints?: Record<string, number>;
}

// The compiler's and back end's entry points are loaded by name so that this file does not
// depend on their exact module layout while they are being written.
type CompileModules = (input: CompileInput) => CompileOutput;
type EmitWasm = (policy: Policy, opts?: { optimize?: boolean; strictBuiltinErrors?: boolean }) => Uint8Array | Promise<Uint8Array>;

async function stage<T>(path: string, name: string): Promise<T> {
  const mod = (await import(path)) as Record<string, unknown>;
  const f = mod[name];
  if (typeof f !== 'function') throw new Error(`${path} does not export ${name}`);
  return f as T;
}

const ENTRYPOINT_SEGMENT = /^[^/\s]+$/;

/** `a/b` -> the query `result = data.a.b` (as `opa build -e a/b` plans it). */
function entrypointQuery(ep: string): Body | RegoError {
  const segs = ep.split('/');
  if (ep === '' || segs.some((s) => !ENTRYPOINT_SEGMENT.test(s))) {
    return { code: 'rego_compile_error', message: `invalid entrypoint path "${ep}"` };
  }
  const ref: Term = {
    value: { type: 'ref', value: [{ value: { type: 'var', value: 'data' } }, ...segs.map((s): Term => ({ value: { type: 'string', value: s } }))] },
  };
  const expr = {
    index: 0,
    negated: false,
    terms: [{ value: { type: 'ref' as const, value: [{ value: { type: 'var' as const, value: 'eq' } }] } }, { value: { type: 'var' as const, value: 'result' } }, ref],
    with: [],
  };
  return [expr];
}

function internalError(stageName: string, err: unknown): RegoError {
  const msg = err instanceof Error ? err.message : String(err);
  return { code: 'rego_compile_error', message: `${stageName}: ${msg}` };
}

/** Compile Rego modules to an OPA-ABI WASM module. */
export async function compile(options: CompileOptions): Promise<CompileResult> {
  try {
    return await compileUnsafe(options);
  } catch (err) {
    return { errors: [internalError('internal error', err)] };
  }
}

async function compileUnsafe(options: CompileOptions): Promise<CompileResult> {
  const errors: RegoError[] = [];

  // 1. parse
  const modules: Array<{ file: string; module: Module }> = [];
  for (const m of options.modules) {
    const r = m.parsed ? { module: m.parsed, errors: [] } : parseModule(m.source, m.file);
    errors.push(...r.errors);
    if (r.module) modules.push({ file: m.file, module: r.module });
  }
  const queries: Array<{ name: string; body: Body }> = [];
  for (const q of options.queries ?? []) {
    const r = parseQuery(q.query);
    errors.push(...r.errors);
    if (r.body) {
      if (r.body.length === 0) errors.push({ code: 'rego_parse_error', message: `empty query "${q.name}"` });
      else queries.push({ name: q.name, body: r.body });
    }
  }
  for (const ep of options.entrypoints ?? []) {
    const q = entrypointQuery(ep);
    if (Array.isArray(q)) queries.push({ name: ep, body: q });
    else errors.push(q);
  }
  if (queries.length === 0 && errors.length === 0) {
    errors.push({ code: 'rego_compile_error', message: 'no entrypoints or queries to compile' });
  }
  if (errors.length > 0) return { errors };

  // 2. compile
  const compileModules = await stage<CompileModules>('./compiler/index.js', 'compileModules');
  const compiled = compileModules({ modules, queries, strict: options.strict, ...(options.coverage ? { coverage: true } : {}) } as CompileInput);
  if (compiled.errors.length > 0 || !compiled.policy) {
    return { errors: compiled.errors.length > 0 ? compiled.errors : [{ code: 'rego_compile_error', message: 'compiler produced no policy' }] };
  }

  // 3. plan
  let ir: Policy;
  try {
    ir = planPolicy(compiled.policy, { coverage: options.coverage });
  } catch (err) {
    if (err instanceof PlanError) return { errors: [{ code: 'rego_compile_error', message: `planner: ${err.message}`, location: err.location }] };
    throw err;
  }

  // 4. emit
  const emitWasm = await stage<EmitWasm>('./wasm/index.js', 'emitWasm');
  let wasm: Uint8Array;
  try {
    wasm = await emitWasm(ir, { optimize: options.optimize, strictBuiltinErrors: options.strictBuiltinErrors === true });
  } catch (err) {
    return { errors: [internalError('wasm back end', err)] };
  }
  const entrypoints: Record<string, number> = {};
  ir.plans.forEach((p, i) => (entrypoints[p.name] = i));
  return { wasm, errors: [], entrypoints };
}
