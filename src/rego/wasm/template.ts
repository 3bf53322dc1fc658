// The runtime, prepared for linking by splicing (emit.ts):
//  - its `policy.*` hook imports become defined stub functions (exported as `__rt_hook_*` so
//    the linker finds them), whose bodies each link replaces with generated code;
//  - it imports all of env.opa_builtin0..4, so host builtins never shift function indices;
//  - builtin errors unwind to the generated code around the builtin call: with the exception-
//    handling proposal (the default), the runtime's `eh.throw_builtin_error` import becomes a
//    function that throws the runtime's one tag; without it, binaryen's asyncify transform
//    instruments every runtime function that can reach that import, and the import becomes a
//    function that starts unwinding (asyncify's stack unwinding, never rewound), which the
//    generated code stops right after the runtime call that raised it;
//  - its sections are split and the facts the linker needs (function signatures, export
//    indices, data end, heap base) are read.
// binaryen reads the runtime only here, and the result is kept on disk (template-cache.ts):
// linking a policy assembles bytes around the policy's own code and never loads binaryen.
import { runtimeBytes, runtimeInfo, RUNTIME_DIR } from './runtime.js';
import { loadBinaryen, type Binaryen } from './binaryen.js';
import {
  SEC, Reader, Writer, readSections, readTypes, readImports, readU32Vec, readExports, readCode, readData,
  type Section, type FuncType, type Import, type Export, type DataSegment,
} from './binary.js';
import { readTemplate, templateKey, userCacheDir, writeTemplate, type TemplateMode } from './template-cache.js';

export const HOOKS = ['eval', 'builtins_json', 'entrypoints_json'] as const;
export type Hook = (typeof HOOKS)[number];

export interface RuntimeTemplate {
  sections: Section[];
  types: FuncType[];
  imports: Import[];
  /** signature of every function, imports first (the function index space) */
  funcTypes: FuncType[];
  /** type index of each defined function */
  funcTypeIdx: number[];
  numImportedFuncs: number;
  exports: Export[];
  /** function index by export name */
  exportIndex: Map<string, number>;
  hookIndex: Record<Hook, number>;
  /** function index of env.opa_builtinN */
  hostBuiltinIndex: number[];
  code: Uint8Array[];
  data: DataSegment[];
  dataEnd: number;
  hasDataCount: boolean;
  startIndex?: number;
  /** where the heap begins after the runtime's start function ran */
  heapBase: number;
  /** function names by index, when the runtime was built with names (asc --debug, for profiling) */
  funcNames?: Map<number, string>;
  /** Whether builtin errors unwind by the exception-handling proposal (else by asyncify, see above). */
  exceptionHandling: boolean;
  /** Without exception handling: the unwinding services and the memory asyncify unwinds into. */
  unwind?: {
    /** function index of asyncify's get_state (1 while unwinding) and stop_unwind */
    state: number;
    stop: number;
    /** reserved memory (asyncify's data structure and buffer) the linker keeps free of policy data */
    addr: number;
    size: number;
  };
}

export interface TemplateOptions {
  /** Default true. false: a runtime that needs no exception-handling support (see above). */
  exceptionHandling?: boolean;
}

const cached = new Map<TemplateMode, Promise<RuntimeTemplate>>();

export function runtimeTemplate(options: TemplateOptions = {}): Promise<RuntimeTemplate> {
  const mode: TemplateMode = options.exceptionHandling === false ? 'noeh' : 'eh';
  let p = cached.get(mode);
  if (!p) {
    p = loadTemplate(mode).catch((err) => {
      cached.delete(mode);
      throw err;
    });
    cached.set(mode, p);
  }
  return p;
}

/** A prepared template from disk if there is one for this runtime, else prepared (and cached) now. */
function loadTemplate(mode: TemplateMode): Promise<RuntimeTemplate> {
  return loadTemplateFrom({ runtime: runtimeBytes(), mode, shipped: RUNTIME_DIR, cacheDir: userCacheDir() });
}

/**
 * loadTemplate with its places given: the template for `runtime` and `mode` from `shipped` or
 * `cacheDir` when one loads, else prepared with binaryen and written to `cacheDir`.
 */
export async function loadTemplateFrom(where: { runtime: Uint8Array; mode: TemplateMode; shipped?: string; cacheDir?: string }): Promise<RuntimeTemplate> {
  const key = templateKey(where.runtime, where.mode);
  for (const dir of [where.shipped, where.cacheDir]) {
    const stored = readTemplate(key, [dir]);
    if (!stored) continue;
    try {
      return describe(stored, where.mode);
    } catch {
      // a damaged file: try the next place, else prepare the template again
    }
  }
  const bytes = await prepareTemplate(where.runtime, where.mode);
  writeTemplate(key, where.cacheDir, bytes);
  return describe(bytes, where.mode);
}

/**
 * Prepares both templates next to the runtime (the build does, so a package ships them), unless
 * they are there already for this runtime.
 */
export async function prepareTemplateFiles(dir = RUNTIME_DIR): Promise<{ written: string[]; kept: string[] }> {
  const runtime = runtimeBytes();
  const written: string[] = [];
  const kept: string[] = [];
  for (const mode of ['eh', 'noeh'] as const) {
    const key = templateKey(runtime, mode);
    const existing = readTemplate(key, [dir]);
    if (existing && loads(existing, mode)) {
      kept.push(key);
      continue;
    }
    const bytes = await prepareTemplate(runtime, mode);
    describe(bytes, mode); // it loads
    if (!writeTemplate(key, dir, bytes)) throw new Error(`cannot write the runtime template into ${dir}`);
    written.push(key);
  }
  return { written, kept };
}

function loads(bytes: Uint8Array, mode: TemplateMode): boolean {
  try {
    describe(bytes, mode);
    return true;
  } catch {
    return false;
  }
}

/** The WASM features of a module linked from a template of this mode. */
export const FEATURES = (b: Binaryen, exceptionHandling = true) =>
  b.Features.MVP | b.Features.MutableGlobals | b.Features.SignExt | b.Features.BulkMemory | b.Features.BulkMemoryOpt | b.Features.NontrappingFPToInt |
  (exceptionHandling ? b.Features.ExceptionHandling : 0);

/** Memory reserved for asyncify's unwinding: its 8-byte data structure, then the saved frames. */
const UNWIND_SIZE = 64 * 1024;
/** Custom section of a template without exception handling: where the unwind memory is (u32 addr, u32 size). */
const UNWIND_SECTION = 'rego.unwind';

/**
 * The runtime's one exception tag (no payload; the message stays in the runtime's error
 * buffer). Builtin errors throw it (abort.ts imports `eh.throw_builtin_error`, which becomes a
 * function doing the throw); generated code catches it around runtime builtin calls. It is the
 * module's only tag, so the generated code refers to it as tag index 0.
 */
export const BUILTIN_ERROR_TAG = 'rego$builtin_error';
const THROW_IMPORT = { module: 'eh', base: 'throw_builtin_error' };

/** Prepares the runtime for linking (the one place binaryen reads it). */
export async function prepareTemplate(runtime: Uint8Array, mode: TemplateMode): Promise<Uint8Array> {
  const eh = mode === 'eh';
  const b = await loadBinaryen();
  const m = b.readBinary(runtime);
  let bytes: Uint8Array;
  let unwindAt = 0;
  try {
    m.setFeatures(FEATURES(b, eh));
    if (eh) defineThrow(b, m);
    inlineHotCalls(b, m);
    if (!eh) {
      unwindAt = align(runtimeInfo().heapBase, 16);
      defineUnwind(b, m, unwindAt);
    }
    const have = new Set<string>();
    const hooks: Array<{ name: string; base: string; params: number; results: number }> = [];
    for (let i = 0; i < m.getNumFunctions(); i++) {
      const info = b.getFunctionInfo(m.getFunctionByIndex(i));
      if (info.module === 'policy' && info.base) hooks.push({ name: info.name, base: info.base, params: info.params, results: info.results });
      else if (info.module === 'env' && info.base) have.add(info.base);
    }
    for (const h of HOOKS) if (!hooks.some((x) => x.base === h)) throw new Error(`runtime does not import policy.${h}`);
    for (const h of hooks) {
      m.removeFunction(h.name);
      m.addFunction(h.name, h.params, h.results, [], m.unreachable());
      m.addFunctionExport(h.name, `__rt_hook_${h.base}`);
    }
    for (let n = 0; n <= 4; n++) {
      if (!have.has(`opa_builtin${n}`)) m.addFunctionImport(`opa_builtin${n}$`, 'env', `opa_builtin${n}`, b.createType(new Array(n + 2).fill(b.i32)), b.i32);
    }
    if (!m.validate()) throw new Error('runtime template does not validate');
    const named = readSections(runtime).some((s) => s.id === SEC.custom && customName(s.payload) === 'name');
    const debugInfo = b.getDebugInfo();
    b.setDebugInfo(named);
    try {
      bytes = m.emitBinary();
    } finally {
      b.setDebugInfo(debugInfo);
    }
  } finally {
    m.dispose();
  }
  if (!eh) {
    const w = new Writer().bytes(bytes);
    w.section(SEC.custom, (s) => s.name(UNWIND_SECTION).u32(unwindAt).u32(UNWIND_SIZE));
    bytes = w.finish();
  }
  return bytes;
}

/**
 * Without exception handling: binaryen's asyncify instruments every function that can reach
 * the runtime's `eh.throw_builtin_error` import (directly, or through an indirect call), then
 * the import becomes a function that starts unwinding into the reserved memory at `at`. The
 * asyncify services are exported under the runtime's private prefix (the linker calls them and
 * strips them from the final module).
 */
function defineUnwind(b: Binaryen, m: InstanceType<Binaryen['Module']>, at: number): void {
  const name = throwImportName(b, m);
  b.setPassArgument('asyncify-imports', `${THROW_IMPORT.module}.${THROW_IMPORT.base}`);
  try {
    m.runPasses(['asyncify']);
  } finally {
    b.setPassArgument('asyncify-imports', null);
  }
  const internal = (exp: string) => {
    const e = m.getExport(exp);
    if (!e) throw new Error(`asyncify did not export ${exp}`);
    return b.getExportInfo(e).value;
  };
  const start = internal('asyncify_start_unwind');
  const services: Record<string, string> = { asyncify_get_state: '__rt_unwind_state', asyncify_stop_unwind: '__rt_unwind_stop' };
  const keep = Object.fromEntries(Object.keys(services).map((e) => [e, internal(e)]));
  for (const e of ['asyncify_start_unwind', 'asyncify_stop_unwind', 'asyncify_start_rewind', 'asyncify_stop_rewind', 'asyncify_get_state']) m.removeExport(e);
  for (const [e, exported] of Object.entries(services)) m.addFunctionExport(keep[e]!, exported);
  m.removeFunction(name);
  // asyncify's data structure: where the next frame goes, where the buffer ends; then the buffer.
  m.addFunction(name, b.none, b.none, [], m.block(null as unknown as string, [
    m.i32.store(0, 4, m.i32.const(at), m.i32.const(at + 8)),
    m.i32.store(4, 4, m.i32.const(at), m.i32.const(at + UNWIND_SIZE)),
    m.call(start, [m.i32.const(at)], b.none),
  ], b.none));
}

function throwImportName(b: Binaryen, m: InstanceType<Binaryen['Module']>): string {
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = b.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.module === THROW_IMPORT.module && info.base === THROW_IMPORT.base) return info.name;
  }
  throw new Error(`runtime does not import ${THROW_IMPORT.module}.${THROW_IMPORT.base}`);
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Replaces the runtime's `eh.throw_builtin_error` import by a function that throws the tag. */
function defineThrow(b: Binaryen, m: InstanceType<Binaryen['Module']>): void {
  const name = throwImportName(b, m);
  m.addTag(BUILTIN_ERROR_TAG, b.none, b.none);
  m.removeFunction(name);
  m.addFunction(name, b.none, b.none, [], m.throw(BUILTIN_ERROR_TAG, []));
}

/**
 * Inlines small runtime functions into their callers (binaryen's `inlining` pass with larger
 * limits than asc's -O3 uses): the runtime is made of many small helpers (rune decoding, key
 * comparison, lookups, iteration) whose call overhead was a large share of evaluation time.
 * This pass alone takes tens of milliseconds once per process (the full optimizing pipeline
 * would take seconds). It runs while the policy hooks are still imports, so their stub bodies
 * can never be inlined in place of the generated code that replaces them.
 */
function inlineHotCalls(b: Binaryen, m: InstanceType<Binaryen['Module']>): void {
  const saved = [b.getOptimizeLevel(), b.getShrinkLevel(), b.getAlwaysInlineMaxSize(), b.getFlexibleInlineMaxSize(), b.getOneCallerInlineMaxSize()] as const;
  try {
    b.setOptimizeLevel(3);
    b.setShrinkLevel(0);
    b.setAlwaysInlineMaxSize(40);
    b.setFlexibleInlineMaxSize(200);
    // Large functions with a single caller stay apart: merged into the recursive JSON parser
    // and dumper they would make every nesting level's stack frame bigger (deep documents
    // must still end in a parse error, not a stack overflow).
    b.setOneCallerInlineMaxSize(40);
    m.runPasses(['inlining']);
  } finally {
    b.setOptimizeLevel(saved[0]);
    b.setShrinkLevel(saved[1]);
    b.setAlwaysInlineMaxSize(saved[2]);
    b.setFlexibleInlineMaxSize(saved[3]);
    b.setOneCallerInlineMaxSize(saved[4]);
  }
}

function customName(payload: Uint8Array): string {
  return new Reader(payload).name();
}

/** The function names of a module's name section (subsection 1), if it has one. */
function functionNames(all: Section[]): Map<number, string> | undefined {
  const sec = all.find((s) => s.id === SEC.custom && customName(s.payload) === 'name');
  if (!sec) return undefined;
  const r = new Reader(sec.payload);
  r.name();
  const names = new Map<number, string>();
  while (!r.done()) {
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 1) {
      const sub = new Reader(sec.payload, r.pos, end);
      for (let n = sub.u32(); n > 0; n--) names.set(sub.u32(), sub.name());
    }
    r.pos = end;
  }
  return names;
}

function describe(bytes: Uint8Array, mode: TemplateMode): RuntimeTemplate {
  const all = readSections(bytes);
  const sections = all.filter((s) => s.id !== SEC.custom);
  const payload = (id: number) => sections.find((s) => s.id === id)?.payload;
  const types = readTypes(payload(SEC.type) ?? new Uint8Array([0]));
  const imports = readImports(payload(SEC.import) ?? new Uint8Array([0]));
  const funcTypeIdx = readU32Vec(payload(SEC.function) ?? new Uint8Array([0]));
  const funcTypes: FuncType[] = [];
  const hostBuiltinIndex: number[] = [];
  for (const im of imports) {
    if (im.kind !== 0) continue;
    if (im.module === 'env' && /^opa_builtin[0-4]$/.test(im.field)) hostBuiltinIndex[Number(im.field.slice(11))] = funcTypes.length;
    funcTypes.push(types[im.type]!);
  }
  const numImportedFuncs = funcTypes.length;
  for (const t of funcTypeIdx) funcTypes.push(types[t]!);
  const exports = readExports(payload(SEC.export) ?? new Uint8Array([0]));
  const exportIndex = new Map(exports.filter((e) => e.kind === 0).map((e) => [e.name, e.index]));
  const hookIndex = {} as Record<Hook, number>;
  for (const h of HOOKS) hookIndex[h] = exportIndex.get(`__rt_hook_${h}`)!;
  const data = readData(payload(SEC.data) ?? new Uint8Array([0]));
  const dataEnd = Math.max(0, ...data.map((d) => (d.offset ?? 0) + d.size));
  const start = payload(SEC.start);
  let unwind: RuntimeTemplate['unwind'];
  if (mode === 'noeh') {
    const sec = all.find((x) => x.id === SEC.custom && customName(x.payload) === UNWIND_SECTION);
    const state = exportIndex.get('__rt_unwind_state');
    const stop = exportIndex.get('__rt_unwind_stop');
    if (!sec || state === undefined || stop === undefined) throw new Error('runtime template without its unwinding services');
    const r = new Reader(sec.payload);
    r.name();
    unwind = { state, stop, addr: r.u32(), size: r.u32() };
  }
  return {
    sections,
    types,
    imports,
    funcTypes,
    funcTypeIdx,
    numImportedFuncs,
    exports,
    exportIndex,
    hookIndex,
    hostBuiltinIndex,
    code: readCode(payload(SEC.code) ?? new Uint8Array([0])),
    data,
    dataEnd,
    hasDataCount: payload(SEC.datacount) !== undefined,
    startIndex: start ? readU32Vec(new Uint8Array([1, ...start]))[0] : undefined,
    heapBase: probeHeapBase(bytes),
    funcNames: functionNames(all),
    exceptionHandling: mode === 'eh',
    unwind,
  };
}

/** Instantiates the template with inert imports and asks where its heap begins. */
function probeHeapBase(bytes: Uint8Array): number {
  const fail = () => {
    throw new Error('runtime import called while probing');
  };
  const env: Record<string, unknown> = { memory: new WebAssembly.Memory({ initial: 2 }), opa_abort: fail, opa_println: fail };
  // (the template defines its tag and throw function itself: no `eh` import is left)
  for (let n = 0; n <= 4; n++) env[`opa_builtin${n}`] = fail;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: env as WebAssembly.ModuleImports });
  return (instance.exports.opa_heap_ptr_get as () => number)();
}
