// check() and compile(): parse -> compile -> (plan -> emit), with the retry on a deep stack for
// policies nested deeper than this thread's stack holds. Public through index.ts (check,
// compile and their option and result types); checkWithin/compileWithin are for deep-worker.ts.
import type { Body, Module, RegoError, Term } from './ast/types.js';
import { compileModules } from './compiler/index.js';
import { isStackOverflow, runDeep, runDeepSync } from './deep-stack.js';
import type { StageHooks } from './compiler/stages.js';
import type { SchemaOptions } from './compiler/types.js';
import type { Policy } from './ir/types.js';
import { parseModule, parseQuery } from './parser/index.js';
import { PlanError, planPolicy, type TraceNode } from './planner/planner.js';
import { traceNodeInfo, type TraceNodeInfo } from './trace.js';
import { emitWasm } from './wasm/index.js';

export interface SourceModule {
  file: string; // name used in error locations, e.g. `policies/sip/decision.rego`
  source: string;
  /**
   * The module already parsed from `source` (possibly rewritten by the caller, e.g. the test
   * runner's renaming of duplicate tests): used instead of parsing `source` again. The
   * toolchain does not change it (the compiler works on a copy).
   */
  parsed?: Module;
}

export interface CheckOptions {
  modules: SourceModule[];
  /** OPA strict mode. */
  strict?: boolean;
  /** Code to run after named compiler stages. */
  stages?: StageHooks;
  /** OPA's WithEnablePrintStatements: print() calls are kept (rewritten), not erased. */
  print?: boolean;
  /** JSON Schemas for type checking (OPA's -s and METADATA `schemas:`). */
  schemas?: SchemaOptions;
}

export interface CheckResult {
  errors: RegoError[];
  /** The parsed modules (as written), in input order; absent when a module does not parse. */
  parsed?: Array<{ file: string; module: Module }>;
  /** The compiled modules (as OPA's compiler leaves them for its planner), in input order; absent on errors. */
  compiled?: Module[];
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
  /**
   * Emit a module that uses the WASM exception-handling proposal (the default: builtin errors
   * unwind with one `throw`). false: a module without it (errors are checked after each
   * runtime builtin call instead), for WebAssembly runtimes that do not implement the proposal.
   */
  exceptionHandling?: boolean;
  /** Code to run after named compiler stages. */
  stages?: StageHooks;
  /**
   * Keep print() calls (OPA's WithEnablePrintStatements): they call the host builtin
   * `internal.bastion_print` (see printBuiltin()). Off (the default), they are erased.
   */
  print?: boolean;
  /** JSON Schemas for type checking (OPA's -s and METADATA `schemas:`). */
  schemas?: SchemaOptions;
  /** Instrument for evaluation traces: calls host builtin `internal.bastion_trace(code, values)` (see trace.ts). */
  trace?: boolean;
}

export interface CompileResult {
  wasm?: Uint8Array; // absent when errors is non-empty
  errors: RegoError[];
  /** With `trace`: what the trace event codes refer to. */
  trace?: TraceNodeInfo[];
  /** Entrypoint name -> id, as the module's `entrypoints()` export reports them. */
  entrypoints?: Record<string, number>;
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

/** Modules without their parsed ASTs (a worker parses again; a deep AST would not survive the copy). */
function sourcesOnly(modules: SourceModule[]): SourceModule[] {
  return modules.map((m) => ({ file: m.file, source: m.source }));
}

function parseAll(sources: SourceModule[], errors: RegoError[]): Array<{ file: string; module: Module }> {
  const modules: Array<{ file: string; module: Module }> = [];
  for (const m of sources) {
    if (m.parsed) {
      modules.push({ file: m.file, module: m.parsed });
      continue;
    }
    const r = parseModule(m.source, m.file);
    errors.push(...r.errors);
    if (r.module) modules.push({ file: m.file, module: r.module });
  }
  return modules;
}

/** Parses and compiles modules as `opa check` does: every rule is checked, nothing is planned. */
export function check(options: CheckOptions): CheckResult {
  return checkWithin(options, false);
}

/**
 * check() on this thread; policies nested deeper than its stack allows are checked again on a
 * deep stack (deep-stack.ts; not with stage hooks, which cannot be handed to another thread).
 * `deep`: this already is that deep stack.
 */
export function checkWithin(options: CheckOptions, deep: boolean): CheckResult {
  try {
    const errors: RegoError[] = [];
    const parsed = parseAll(options.modules, errors);
    if (errors.length > 0) return { errors };
    const out = compileModules({ modules: parsed, queries: [], strict: options.strict, stages: options.stages, enablePrintStatements: options.print, schemas: options.schemas });
    if (out.errors.length > 0 || !out.policy) return { errors: out.errors, parsed };
    return { errors: [], parsed, compiled: out.policy.modules };
  } catch (err) {
    if (isStackOverflow(err) && !deep && !options.stages) {
      const r = runDeepSync<CheckResult>({ kind: 'check', options: { ...options, modules: sourcesOnly(options.modules) } });
      if (r) return r;
    }
    return { errors: [internalError('internal error', err)] };
  }
}

/** Compiles Rego modules to an OPA-ABI WASM module. */
export function compile(options: CompileOptions): Promise<CompileResult> {
  return compileWithin(options, false);
}

/** compile() on this thread, or on a deep stack for deeply nested policies (as checkWithin). */
export async function compileWithin(options: CompileOptions, deep: boolean): Promise<CompileResult> {
  try {
    return await compileUnsafe(options);
  } catch (err) {
    if (isStackOverflow(err) && !deep && !options.stages) {
      const r = await runDeep<CompileResult & { wasm?: unknown }>({ kind: 'compile', options: { ...options, modules: sourcesOnly(options.modules) } });
      if (r) return { ...r, wasm: typeof r.wasm === 'string' ? new Uint8Array(Buffer.from(r.wasm, 'base64')) : undefined };
    }
    return { errors: [internalError('internal error', err)] };
  }
}

async function compileUnsafe(options: CompileOptions): Promise<CompileResult> {
  const errors: RegoError[] = [];

  // 1. parse
  const modules = parseAll(options.modules, errors);
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
  const compiled = compileModules({ modules, queries, strict: options.strict, stages: options.stages, enablePrintStatements: options.print, schemas: options.schemas });
  if (compiled.errors.length > 0 || !compiled.policy) {
    return { errors: compiled.errors.length > 0 ? compiled.errors : [{ code: 'rego_compile_error', message: 'compiler produced no policy' }] };
  }

  // 3. plan
  let ir: Policy;
  const traceNodes: TraceNode[] = [];
  try {
    ir = planPolicy(compiled.policy, { coverage: options.coverage, trace: options.trace, traceNodes });
  } catch (err) {
    if (err instanceof PlanError) return { errors: [{ code: 'rego_compile_error', message: `planner: ${err.message}`, location: err.location }] };
    throw err;
  }

  // 4. emit
  let wasm: Uint8Array;
  try {
    wasm = await emitWasm(ir, {
      optimize: options.optimize,
      strictBuiltinErrors: options.strictBuiltinErrors === true,
      exceptionHandling: options.exceptionHandling !== false,
    });
  } catch (err) {
    if (isStackOverflow(err)) throw err;
    return { errors: [internalError('wasm back end', err)] };
  }
  const entrypoints: Record<string, number> = {};
  ir.plans.forEach((p, i) => (entrypoints[p.name] = i));
  const result: CompileResult = { wasm, errors: [], entrypoints };
  if (options.trace) {
    const rewritten = new Map(compiled.policy.rewrittenVars);
    for (const q of compiled.policy.queries) for (const [k, v] of q.rewrittenVars) rewritten.set(k, v);
    result.trace = traceNodeInfo(traceNodes, rewritten, compiled.policy.ruleModule);
  }
  return result;
}
