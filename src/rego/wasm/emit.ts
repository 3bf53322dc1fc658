// IR -> WASM: links the policy into the prebuilt runtime.
//  1. the runtime template (template.ts, prepared once per process) gives the runtime's
//     function signatures and `__rt_*` services by export name;
//  2. binaryen.js builds a small module holding only the generated code: one wasm function
//     per ir.Func, the `eval` dispatcher over the plans, the builtins/entrypoints hooks and a
//     start function; its imports stand for the runtime's functions index for index;
//  3. splice(): the runtime's sections plus the generated code, hook bodies replaced, a data
//     segment with the policy's constants (static-data.ts), private exports dropped;
//  4. optionally binaryen's optimizer over the whole module.
import { isStackOverflow } from '../deep-stack.js';
import type * as ir from '../ir/types.js';
import { loadBinaryen, discardBinaryen, isBinaryenFatal, type Binaryen } from './binaryen.js';
import { CodeBuilder, encodeBody, I32, NONE, type Expr } from './encode.js';
import { runtimeTemplate, HOOKS, FEATURES, BUILTIN_ERROR_TAG, type Hook, type RuntimeTemplate } from './template.js';
import { SEC, HEADER, Writer, writeType, writeImports, writeActiveSegment, type FuncType } from './binary.js';
import { layoutStatic } from './static-data.js';
import { FunctionBuilder, type ModuleContext, type Services, type BuiltinTarget } from './codegen.js';
import { validatePolicy, WasmCompileError } from './validate.js';

export { WasmCompileError } from './validate.js';

export interface EmitOptions {
  /** Run binaryen's optimizer (O3): smaller, faster module, ~70 ms more link time. */
  optimize?: boolean;
  /**
   * OPA's StrictBuiltinErrors. Either way a runtime builtin's type or builtin error makes its
   * call undefined and evaluation goes on (OPA's topdown); strict, the first such error is
   * raised when the evaluation ends. Conflict and internal errors always abort at once.
   */
  strictBuiltinErrors?: boolean;
  /**
   * Use the WASM exception-handling proposal for builtin errors (the default). false: a module
   * without it (see template.ts, unwinding without exceptions), for runtimes lacking the proposal.
   */
  exceptionHandling?: boolean;
}

const SERVICES = [
  'null', 'boolean', 'number_int', 'number_ref', 'number_set_int', 'string', 'array_with_cap', 'array_append',
  'object', 'object_insert', 'set', 'result_set', 'set_add', 'value_get', 'value_compare', 'value_equal', 'value_type',
  'value_length', 'value_merge', 'value_shallow_copy', 'iter_prepare', 'iter_key', 'iter_value',
  'memo_init', 'memo_push', 'memo_pop', 'memo_get', 'memo_set', 'error', 'error_at',
  'builtin_error_defer', 'builtin_error_reset', 'builtin_error_raise_pending', 'builtin_error_uncaught',
  'host_call0', 'host_call1', 'host_call2', 'host_call3', 'host_call4',
];

/** The runtime export implementing an OPA builtin natively, e.g. `object.get` -> `__rt_b_object__get`. */
export function runtimeBuiltinExport(name: string): string {
  return `__rt_b_${name.replace(/\./g, '__')}`;
}

/** Errors raised by conflicts, as indices understood by the runtime's `__rt_error`. */
const ERR_COMPLETE_RULE = 0;
const ERR_FUNCTION = 1;
const ERR_ILLEGAL_ENTRYPOINT = 3;

const PAGE = 65536;

/** Names of the runtime's exported builtins with their arity (for tests and tooling). */
export async function runtimeBuiltins(): Promise<Map<string, number>> {
  const tpl = await runtimeTemplate();
  const out = new Map<string, number>();
  for (const e of tpl.exports) {
    if (e.kind === 0 && e.name.startsWith('__rt_b_')) out.set(e.name.slice(7).replace(/__/g, '.'), tpl.funcTypes[e.index]!.params.length);
  }
  return out;
}

export async function emitWasm(policy: ir.Policy, options: EmitOptions = {}): Promise<Uint8Array> {
  try {
    return await link(policy, options);
  } catch (err) {
    if (err instanceof WasmCompileError || isStackOverflow(err)) throw err;
    if (isBinaryenFatal(err)) discardBinaryen();
    throw new WasmCompileError(`internal error while linking: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Generates the policy's functions straight into the binary format (encode.ts), in the
 * runtime template's function index space: calls into the runtime use the runtime's own
 * indices, the policy functions come right after the runtime's, then the start function.
 */
async function link(policy: ir.Policy, options: EmitOptions): Promise<Uint8Array> {
  const eh = options.exceptionHandling !== false;
  const tpl = await runtimeTemplate({ exceptionHandling: eh });

  const funcIndex = new Map<string, number>();
  (policy?.funcs ?? []).forEach((f, i) => {
    if (f && typeof f.name === 'string') {
      if (funcIndex.has(f.name)) throw new WasmCompileError(`func ${f.name}: duplicate function name`);
      funcIndex.set(f.name, i);
    }
  });

  // ---- the runtime's function index space, by name
  const hostNames = new Map(tpl.hostBuiltinIndex.map((idx, n) => [idx, `opa_builtin${n}`]));
  const rtName = (i: number) => hostNames.get(i) ?? `rt$${i}`;
  const resolve = (name: string): number => {
    if (name.startsWith('rt$')) return Number(name.slice(3));
    if (name.startsWith('rego$f')) return tpl.funcTypes.length + Number(name.slice(6));
    const host = /^opa_builtin([0-4])$/.exec(name);
    if (host) return tpl.hostBuiltinIndex[Number(host[1])]!;
    throw new WasmCompileError(`internal error: call to unknown function ${name}`);
  };

  // ---- runtime services and builtins
  const exportTarget = (name: string): string | undefined => {
    const idx = tpl.exportIndex.get(name);
    return idx === undefined ? undefined : rtName(idx);
  };
  const rtServices: Services = {};
  for (const s of SERVICES) {
    const target = exportTarget(`__rt_${s}`);
    if (!target) throw new WasmCompileError(`runtime is missing service __rt_${s}`);
    rtServices[s] = target;
  }
  const runtimeBuiltin = new Map<string, { name: string; arity: number }>();
  for (const e of tpl.exports) {
    if (e.kind === 0 && e.name.startsWith('__rt_b_')) runtimeBuiltin.set(e.name, { name: rtName(e.index), arity: tpl.funcTypes[e.index]!.params.length });
  }
  const declared = new Map<string, number>();
  (policy?.static?.builtinFuncs ?? []).forEach((d, i) => {
    if (d && typeof d.name === 'string' && !declared.has(d.name)) declared.set(d.name, i);
  });
  const nativeFor = (name: string, arity: number) => {
    const rb = runtimeBuiltin.get(runtimeBuiltinExport(name));
    return rb && rb.arity === arity ? rb : undefined;
  };

  validatePolicy(policy, {
    funcs: new Map([...funcIndex].map(([n, i]) => [n, policy.funcs[i]!])),
    isBuiltin: (name) => declared.has(name) || runtimeBuiltin.has(runtimeBuiltinExport(name)),
  });

  // Host builtins: every declared builtin the runtime does not implement (for its arity).
  const hostBuiltins: Record<string, number> = {};
  collectCalls(policy, (name, arity) => {
    if (funcIndex.has(name) || nativeFor(name, arity)) return;
    const id = declared.get(name);
    if (id === undefined) throw new WasmCompileError(`undefined function: ${JSON.stringify(name)}`);
    if (arity > 4) throw new WasmCompileError(`too many built-in call arguments: ${JSON.stringify(name)}`);
    hostBuiltins[name] = id;
  });
  for (const d of policy.static.builtinFuncs ?? []) {
    if (!nativeFor(d.name, d.arity) && hostBuiltins[d.name] === undefined && d.arity <= 4) {
      hostBuiltins[d.name] = declared.get(d.name)!;
    }
  }
  const builtin = (name: string, arity: number): BuiltinTarget => {
    const rb = nativeFor(name, arity);
    if (rb) return { runtime: rb.name };
    return { hostId: hostBuiltins[name] };
  };

  // ---- static data, after the runtime's data and heap base
  const base = align(Math.max(tpl.dataEnd, tpl.heapBase, tpl.unwind ? tpl.unwind.addr + tpl.unwind.size : 0), 8);
  // Strings of the policy, then the path segments CallDynamic matches against.
  const strings = [...policy.static.strings];
  const pathIndex: number[][] = policy.funcs.map((f) =>
    (f.path ?? []).map((p) => {
      strings.push(String(p));
      return strings.length - 1;
    }),
  );
  // File names, for the locations of conflict errors.
  const fileStrings = (policy.static.files ?? []).map((f) => {
    strings.push(f);
    return strings.length - 1;
  });
  const entrypoints: Record<string, number> = {};
  policy.plans.forEach((p, i) => (entrypoints[p.name] = i));
  const data = layoutStatic(base, strings, JSON.stringify(hostBuiltins), JSON.stringify(entrypoints));
  const heapBase = align(data.end, 8);
  const pages = Math.max(1, Math.ceil(heapBase / PAGE));

  // ---- generated functions
  const m = new CodeBuilder();
  const funcName = (i: number) => `rego$f${i}`;
  const cx: ModuleContext = {
    m, rt: rtServices, data, policy, funcIndex, funcName, builtin, strictBuiltinErrors: options.strictBuiltinErrors === true,
    pathConst: (i, j) => data.stringValue[pathIndex[i]![j]!]!,
    fileConst: (i) => (fileStrings[i] === undefined ? undefined : data.stringValue[fileStrings[i]!]),
    unwind: tpl.unwind ? { state: rtName(tpl.unwind.state), stop: rtName(tpl.unwind.stop) } : undefined,
  };
  const funcs: Uint8Array[] = policy.funcs.map((f, i) => {
    const memo = f.params.length === 2 ? i : -1;
    const fb = new FunctionBuilder(cx, f.params.length, memo, f.params.length > 2 ? ERR_FUNCTION : ERR_COMPLETE_RULE);
    f.params.forEach((p, k) => fb.bindParam(p, k));
    const body: Expr[] = [];
    const ret = fb.local(f.return);
    if (memo >= 0) {
      body.push(m.local.set(ret, m.call(rtServices.memo_get!, [m.i32.const(memo)], I32)));
      body.push(m.if(m.local.get(ret, I32), m.return(m.local.get(ret, I32))));
    }
    for (const blk of f.blocks) body.push(fb.block(blk, 'fb'));
    body.push(m.return(m.local.get(ret, I32)));
    return encodeBody(fb.vars, m.block(null, body, NONE), I32, resolve);
  });

  // eval(ctx): memo reset, input/data from ctx, a fresh result set, dispatch on the entrypoint.
  let evalHook: Uint8Array;
  {
    const ctxLocal = 0;
    const rsLocal = 1;
    const fb = new FunctionBuilder(cx, 1, -1, ERR_COMPLETE_RULE, rsLocal);
    fb.local(ir0.RS_PLACEHOLDER); // reserves index 1 for the result set
    const eid = fb.temp();
    const ctx = () => m.local.get(ctxLocal, I32);
    const strict = options.strictBuiltinErrors === true;
    const body: Expr[] = [
      m.call(rtServices.memo_init!, [m.i32.const(policy.funcs.length)], NONE),
      ...(strict ? [m.call(rtServices.builtin_error_reset!, [], NONE)] : []),
      m.local.set(fb.local(0), m.i32.load(0, 4, ctx())),
      m.local.set(fb.local(1), m.i32.load(4, 4, ctx())),
      m.local.set(rsLocal, m.call(rtServices.result_set!, [], I32)),
      m.i32.store(8, 4, ctx(), m.local.get(rsLocal, I32)),
      m.local.set(eid, m.i32.load(12, 4, ctx())),
    ];
    const main = 'main';
    const plans: Expr[] = [];
    policy.plans.forEach((p, i) => {
      const ep = fb.newLabel('ep');
      const inner: Expr[] = [m.br(ep, m.i32.ne(m.local.get(eid, I32), m.i32.const(i)))];
      fb.withLabel(ep, () => {
        for (const blk of p.blocks) inner.push(fb.block(blk, 'pb'));
      });
      inner.push(m.br(main));
      plans.push(m.block(ep, inner, NONE));
    });
    plans.push(fb.abort(ERR_ILLEGAL_ENTRYPOINT));
    body.push(m.block(main, plans, NONE));
    if (strict) body.push(m.call(rtServices.builtin_error_raise_pending!, [], NONE));
    // A builtin error raised outside any builtin call (e.g. a number too large for a
    // comparison) is caught nowhere else: it aborts the evaluation. (Without exception
    // handling, the code after each runtime call does the same: codegen.ts.)
    const guarded = eh
      ? m.try(null, m.block(null, body, NONE), [BUILTIN_ERROR_TAG], [m.block(null, [m.call(rtServices.builtin_error_uncaught!, [], NONE), m.unreachable()], NONE)])
      : m.block(null, body, NONE);
    evalHook = encodeBody(fb.vars, guarded, NONE, resolve);
  }
  const hooks: Record<Hook, Uint8Array> = {
    eval: evalHook,
    builtins_json: encodeBody(0, m.i32.const(data.builtinsJson), I32, resolve),
    entrypoints_json: encodeBody(0, m.i32.const(data.entrypointsJson), I32, resolve),
  };

  // start: run the runtime's start, then move the heap past our data
  const startBody: Expr[] = [];
  if (tpl.startIndex !== undefined) startBody.push(m.call(rtName(tpl.startIndex), [], NONE));
  startBody.push(m.call(exportTarget('opa_heap_ptr_set')!, [m.i32.const(heapBase)], NONE));
  const start = encodeBody(0, m.block(null, startBody, NONE), NONE, resolve);

  const funcTypes: FuncType[] = policy.funcs.map((f) => ({ params: f.params.map(() => 0x7f), results: [0x7f] }));
  const bytes = splice(tpl, { funcs, funcTypes, hooks, start }, base, data.bytes, pages, policy.funcs.map((f) => f.name));
  if (!options.optimize) return bytes;
  return optimizeModule(await loadBinaryen(), bytes, eh);
}

interface Generated {
  /** code bodies of the policy functions and their types */
  funcs: Uint8Array[];
  funcTypes: FuncType[];
  /** code bodies replacing the runtime's hook stubs */
  hooks: Record<Hook, Uint8Array>;
  /** code body of the new start function */
  start: Uint8Array;
}

/**
 * The final module: the runtime template's sections with the hook bodies replaced by the
 * generated ones, the policy functions and the new start function appended, the policy's
 * data segment added and private exports dropped.
 */
function splice(tpl: RuntimeTemplate, gen: Generated, base: number, data: Uint8Array, pages: number, funcNames: string[]): Uint8Array {
  const nfuncs = gen.funcs.length;
  const types = [...tpl.types];
  const typeIndex = (t: FuncType): number => {
    const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    let i = types.findIndex((x) => same(x.params, t.params) && same(x.results, t.results));
    if (i < 0) {
      types.push(t);
      i = types.length - 1;
    }
    return i;
  };
  const appendedTypes = [...gen.funcTypes, { params: [], results: [] }].map(typeIndex);
  const code = [...tpl.code];
  for (const h of HOOKS) code[tpl.hookIndex[h] - tpl.numImportedFuncs] = gen.hooks[h];
  code.push(...gen.funcs, gen.start);
  const startIndex = tpl.funcTypes.length + nfuncs;

  const raw = (id: number) => tpl.sections.find((s) => s.id === id)?.payload;
  const w = new Writer().bytes(HEADER);
  w.section(SEC.type, (s) => {
    s.u32(types.length);
    types.forEach((t) => writeType(s, t));
  });
  w.section(SEC.import, (s) => writeImports(s, tpl.imports.map((im) => (im.kind === 2 && im.module === 'env' && im.field === 'memory' ? { ...im, min: Math.max(im.min, pages), max: undefined } : im))));
  w.section(SEC.function, (s) => {
    s.u32(tpl.funcTypeIdx.length + appendedTypes.length);
    [...tpl.funcTypeIdx, ...appendedTypes].forEach((t) => s.u32(t));
  });
  for (const id of [SEC.table, SEC.memory, SEC.tag, SEC.global]) {
    const p = raw(id);
    if (p) w.section(id, (s) => s.bytes(p));
  }
  const exports = tpl.exports.filter((e) => !e.name.startsWith('__rt_') && e.name !== 'memory');
  w.section(SEC.export, (s) => {
    s.u32(exports.length);
    for (const e of exports) s.name(e.name).byte(e.kind).u32(e.index);
  });
  w.section(SEC.start, (s) => s.u32(startIndex));
  const elem = raw(SEC.element);
  if (elem) w.section(SEC.element, (s) => s.bytes(elem));
  if (tpl.hasDataCount) w.section(SEC.datacount, (s) => s.u32(tpl.data.length + 1));
  w.section(SEC.code, (s) => {
    s.u32(code.length);
    for (const body of code) s.u32(body.length).bytes(body);
  });
  w.section(SEC.data, (s) => {
    s.u32(tpl.data.length + 1);
    for (const d of tpl.data) s.bytes(d.raw);
    writeActiveSegment(s, base, data);
  });
  if (tpl.funcNames) {
    // a runtime with names (profiling): keep them, and name the policy's functions after the IR's
    const names = new Map(tpl.funcNames);
    funcNames.forEach((n, i) => names.set(tpl.funcTypes.length + i, `rego:${n}`));
    names.set(startIndex, 'rego$start');
    const sorted = [...names].sort((a, b) => a[0] - b[0]);
    w.section(SEC.custom, (s) => {
      s.name('name').byte(1);
      const sub = new Writer();
      sub.u32(sorted.length);
      for (const [i, n] of sorted) sub.u32(i).name(n);
      const payload = sub.finish();
      s.u32(payload.length).bytes(payload);
    });
  }
  return w.finish();
}

function optimizeModule(b: Binaryen, bytes: Uint8Array, eh: boolean): Uint8Array {
  const m = b.readBinary(bytes);
  try {
    m.setFeatures(FEATURES(b, eh));
    b.setOptimizeLevel(3);
    b.setShrinkLevel(0);
    m.optimize();
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

// Sentinel so the eval function's local 1 (data) and the result set do not collide: the IR's
// locals 0 and 1 are input and data; wasm local 0 is ctx, 1 the result set.
const ir0 = { RS_PLACEHOLDER: -1 };

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function collectCalls(policy: ir.Policy, fn: (name: string, arity: number) => void): void {
  const visit = (b: ir.Block) => {
    for (const s of b.stmts) {
      switch (s.type) {
        case 'CallStmt': fn(s.func, s.args.length); break;
        case 'BlockStmt': s.blocks.forEach(visit); break;
        case 'ScanStmt':
        case 'NotStmt':
        case 'WithStmt': visit(s.block); break;
        default: break;
      }
    }
  };
  policy.funcs.forEach((f) => f.blocks.forEach(visit));
  policy.plans.forEach((p) => p.blocks.forEach(visit));
}
