// IR -> WASM: links the policy into the prebuilt runtime with binaryen.js.
//  1. read the runtime, resolve its `__rt_*` services by export name;
//  2. append a data segment with the policy's constants (static-data.ts);
//  3. generate one wasm function per ir.Func and the `eval` dispatcher over the plans;
//  4. replace the runtime's `policy.*` hook imports with generated functions, wrap the start
//     function so the heap begins after the new data, strip private exports;
//  5. validate, optionally optimize, emit.
import type * as ir from '../ir/types.js';
import { loadBinaryen, discardBinaryen, isBinaryenFatal, type Binaryen } from './binaryen.js';
import { runtimeInfo } from './runtime.js';
import { layoutStatic } from './static-data.js';
import { FunctionBuilder, type ModuleContext, type Services, type BuiltinTarget } from './codegen.js';
import { validatePolicy, WasmCompileError } from './validate.js';

export { WasmCompileError } from './validate.js';

export interface EmitOptions {
  /** Run binaryen's optimizer (O3): smaller, faster module, ~70 ms more link time. */
  optimize?: boolean;
}

const SERVICES = [
  'null', 'boolean', 'number_int', 'number_ref', 'number_set_int', 'string', 'array_with_cap', 'array_append',
  'object', 'object_insert', 'set', 'result_set', 'set_add', 'value_get', 'value_compare', 'value_equal', 'value_type',
  'value_length', 'value_merge', 'value_shallow_copy', 'iter_prepare', 'iter_key', 'iter_value',
  'memo_init', 'memo_push', 'memo_pop', 'memo_get', 'memo_set', 'error',
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
  const b = await loadBinaryen();
  const m = b.readBinary(runtimeInfo().bytes);
  try {
    const out = new Map<string, number>();
    for (let i = 0; i < m.getNumExports(); i++) {
      const info = b.getExportInfo(m.getExportByIndex(i));
      if (!info.name.startsWith('__rt_b_')) continue;
      const f = b.getFunctionInfo(m.getFunction(info.value));
      out.set(info.name.slice(7).replace(/__/g, '.'), b.expandType(f.params).length);
    }
    return out;
  } finally {
    m.dispose();
  }
}

export async function emitWasm(policy: ir.Policy, options: EmitOptions = {}): Promise<Uint8Array> {
  try {
    return await link(policy, options);
  } catch (err) {
    if (err instanceof WasmCompileError) throw err;
    if (isBinaryenFatal(err)) discardBinaryen();
    throw new WasmCompileError(`internal error while linking: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function link(policy: ir.Policy, options: EmitOptions): Promise<Uint8Array> {
  const b = await loadBinaryen();
  const rt = runtimeInfo();

  const funcIndex = new Map<string, number>();
  (policy?.funcs ?? []).forEach((f, i) => {
    if (f && typeof f.name === 'string') {
      if (funcIndex.has(f.name)) throw new WasmCompileError(`func ${f.name}: duplicate function name`);
      funcIndex.set(f.name, i);
    }
  });

  const m = b.readBinary(rt.bytes);
  try {
    m.setFeatures(
      b.Features.MVP | b.Features.MutableGlobals | b.Features.SignExt | b.Features.BulkMemory |
        b.Features.BulkMemoryOpt | b.Features.NontrappingFPToInt,
    );

    // ---- runtime services and builtins
    const exportTarget = (name: string): string | undefined => {
      const ref = m.getExport(name);
      return ref ? b.getExportInfo(ref).value : undefined;
    };
    const rtServices: Services = {};
    for (const s of SERVICES) {
      const target = exportTarget(`__rt_${s}`);
      if (!target) throw new WasmCompileError(`runtime is missing service __rt_${s}`);
      rtServices[s] = target;
    }
    const runtimeBuiltin = new Map<string, { name: string; arity: number }>();
    for (let i = 0; i < m.getNumExports(); i++) {
      const info = b.getExportInfo(m.getExportByIndex(i));
      if (info.name.startsWith('__rt_b_') && info.kind === b.ExternalFunction) {
        const f = b.getFunctionInfo(m.getFunction(info.value));
        runtimeBuiltin.set(info.name, { name: info.value, arity: b.expandType(f.params).length });
      }
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
      isBuiltin: (name) => declared.has(name) || [...runtimeBuiltin.keys()].includes(runtimeBuiltinExport(name)),
    });

    // Host builtins: every declared builtin the runtime does not implement (for its arity).
    const hostBuiltins: Record<string, number> = {};
    const hostArities = new Set<number>();
    collectCalls(policy, (name, arity) => {
      if (funcIndex.has(name) || nativeFor(name, arity)) return;
      const id = declared.get(name);
      if (id === undefined) throw new WasmCompileError(`undefined function: ${JSON.stringify(name)}`);
      if (arity > 4) throw new WasmCompileError(`too many built-in call arguments: ${JSON.stringify(name)}`);
      hostBuiltins[name] = id;
      hostArities.add(arity);
    });
    for (const d of policy.static.builtinFuncs ?? []) {
      if (!nativeFor(d.name, d.arity) && hostBuiltins[d.name] === undefined && d.arity <= 4) {
        hostBuiltins[d.name] = declared.get(d.name)!;
      }
    }
    for (const n of hostArities) {
      m.addFunctionImport(`opa_builtin${n}`, 'env', `opa_builtin${n}`, b.createType(new Array(n + 2).fill(b.i32)), b.i32);
    }
    const builtin = (name: string, arity: number): BuiltinTarget => {
      const rb = nativeFor(name, arity);
      if (rb) return { runtime: rb.name };
      return { hostId: hostBuiltins[name] };
    };

    // ---- static data
    const segments: Array<{ offset: number; data: Uint8Array; passive: boolean }> = [];
    let dataEnd = 0;
    const numSegments = (m as unknown as { getNumDataSegments(): number }).getNumDataSegments();
    for (let i = 0; i < numSegments; i++) {
      const info = (m as unknown as { getDataSegmentInfo(ref: number): { offset: number; data: ArrayBuffer; passive: boolean } })
        .getDataSegmentInfo(m.getDataSegmentByIndex(i));
      segments.push({ offset: info.offset, data: new Uint8Array(info.data), passive: info.passive });
      dataEnd = Math.max(dataEnd, info.offset + info.data.byteLength);
    }
    const base = align(Math.max(dataEnd, rt.heapBase), 8);
    // Strings of the policy, then the path segments CallDynamic matches against.
    const strings = [...policy.static.strings];
    const pathIndex: number[][] = policy.funcs.map((f) =>
      (f.path ?? []).map((p) => {
        strings.push(String(p));
        return strings.length - 1;
      }),
    );
    const entrypoints: Record<string, number> = {};
    policy.plans.forEach((p, i) => (entrypoints[p.name] = i));
    const data = layoutStatic(base, strings, JSON.stringify(hostBuiltins), JSON.stringify(entrypoints));
    const heapBase = align(data.end, 8);

    const memName = b.getExportInfo(m.getExport('memory')).value;
    const pages = Math.max(1, Math.ceil(heapBase / PAGE));
    m.setMemory(pages, -1, null, [
      ...segments.map((s) => ({ offset: m.i32.const(s.offset), data: s.data, passive: s.passive })),
      { offset: m.i32.const(base), data: data.bytes, passive: false },
    ], false, false, memName);
    m.addMemoryImport(memName, 'env', 'memory');

    // ---- generated functions
    const funcName = (i: number) => `rego$f${i}`;
    const cx: ModuleContext = {
      b, m, rt: rtServices, data, policy, funcIndex, funcName, builtin,
      pathConst: (i, j) => data.stringValue[pathIndex[i]![j]!]!,
    };
    policy.funcs.forEach((f, i) => {
      const memo = f.params.length === 2 ? i : -1;
      const fb = new FunctionBuilder(cx, f.params.length, memo, f.params.length > 2 ? ERR_FUNCTION : ERR_COMPLETE_RULE);
      f.params.forEach((p, k) => fb.bindParam(p, k));
      const body: number[] = [];
      const ret = fb.local(f.return);
      if (memo >= 0) {
        body.push(m.local.set(ret, m.call(rtServices.memo_get!, [m.i32.const(memo)], b.i32)));
        body.push(m.if(m.local.get(ret, b.i32), m.return(m.local.get(ret, b.i32))));
      }
      for (const blk of f.blocks) body.push(fb.block(blk, 'fb'));
      body.push(m.return(m.local.get(ret, b.i32)));
      m.addFunction(funcName(i), b.createType(new Array(f.params.length).fill(b.i32)), b.i32, fb.vars,
        m.block(null as unknown as string, body, b.none));
    });

    // eval(ctx): memo reset, input/data from ctx, a fresh result set, dispatch on the entrypoint.
    const hooks = hookImports(b, m);
    {
      const ctxLocal = 0;
      const rsLocal = 1;
      const fb = new FunctionBuilder(cx, 1, -1, ERR_COMPLETE_RULE, rsLocal);
      fb.local(ir0.RS_PLACEHOLDER); // reserves index 1 for the result set
      const eid = fb.temp();
      const ctx = () => m.local.get(ctxLocal, b.i32);
      const body: number[] = [
        m.call(rtServices.memo_init!, [m.i32.const(policy.funcs.length)], b.none),
        m.local.set(fb.local(0), m.i32.load(0, 4, ctx())),
        m.local.set(fb.local(1), m.i32.load(4, 4, ctx())),
        m.local.set(rsLocal, m.call(rtServices.result_set!, [], b.i32)),
        m.i32.store(8, 4, ctx(), m.local.get(rsLocal, b.i32)),
        m.local.set(eid, m.i32.load(12, 4, ctx())),
      ];
      const main = 'main';
      const plans: number[] = [];
      policy.plans.forEach((p, i) => {
        const ep = fb.newLabel('ep');
        const inner: number[] = [m.br(ep, m.i32.ne(m.local.get(eid, b.i32), m.i32.const(i)))];
        fb.withLabel(ep, () => {
          for (const blk of p.blocks) inner.push(fb.block(blk, 'pb'));
        });
        inner.push(m.br(main));
        plans.push(m.block(ep, inner, b.none));
      });
      plans.push(fb.abort(ERR_ILLEGAL_ENTRYPOINT));
      body.push(m.block(main, plans, b.none));
      replaceHook(b, m, hooks.eval, b.createType([b.i32]), b.none, fb.vars, m.block(null as unknown as string, body, b.none));
    }
    replaceHook(b, m, hooks.builtins_json, b.none, b.i32, [], m.i32.const(data.builtinsJson));
    replaceHook(b, m, hooks.entrypoints_json, b.none, b.i32, [], m.i32.const(data.entrypointsJson));

    // ---- start: run the runtime's start, then move the heap past our data
    const heapSet = exportTarget('opa_heap_ptr_set')!;
    const oldStart = m.getStart();
    const startBody: number[] = [];
    if (oldStart) startBody.push(m.call(b.getFunctionInfo(oldStart).name, [], b.none));
    startBody.push(m.call(heapSet, [m.i32.const(heapBase)], b.none));
    const newStart = m.addFunction('rego$start', b.none, b.none, [], m.block(null as unknown as string, startBody, b.none));
    m.setStart(newStart);

    // ---- private exports
    const drop: string[] = [];
    for (let i = 0; i < m.getNumExports(); i++) {
      const name = b.getExportInfo(m.getExportByIndex(i)).name;
      if (name.startsWith('__rt_') || name === 'memory') drop.push(name);
    }
    for (const name of drop) m.removeExport(name);

    if (!m.validate()) throw new WasmCompileError('internal error: generated module does not validate');
    if (options.optimize) {
      b.setOptimizeLevel(3);
      b.setShrinkLevel(0);
      m.optimize();
    }
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

function hookImports(b: Binaryen, m: InstanceType<Binaryen['Module']>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = b.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.module === 'policy' && info.base) out[info.base] = info.name;
  }
  for (const h of ['eval', 'builtins_json', 'entrypoints_json']) {
    if (!out[h]) throw new WasmCompileError(`runtime does not import policy.${h}`);
  }
  return out;
}

function replaceHook(b: Binaryen, m: InstanceType<Binaryen['Module']>, name: string, params: number, results: number, vars: number[], body: number): void {
  m.removeFunction(name);
  m.addFunction(name, params, results, vars, body);
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
