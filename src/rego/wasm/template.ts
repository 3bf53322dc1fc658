// The runtime, prepared once per process for linking by splicing (link.ts):
//  - its `policy.*` hook imports become defined stub functions (exported as `__rt_hook_*` so
//    the linker finds them), whose bodies each link replaces with generated code;
//  - it imports all of env.opa_builtin0..4, so host builtins never shift function indices;
//  - its sections are split and the facts the linker needs (function signatures, export
//    indices, data end, heap base) are read once.
// binaryen reads the runtime only here; a link then only assembles bytes around the
// policy's own small module, which keeps linking fast however big the runtime grows.
import { runtimeInfo } from './runtime.js';
import { loadBinaryen, type Binaryen } from './binaryen.js';
import {
  SEC, Reader, readSections, readTypes, readImports, readU32Vec, readExports, readCode, readData,
  type Section, type FuncType, type Import, type Export, type DataSegment,
} from './binary.js';

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
}

let cached: Promise<RuntimeTemplate> | undefined;

export function runtimeTemplate(): Promise<RuntimeTemplate> {
  cached ??= build().catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

export const FEATURES = (b: Awaited<ReturnType<typeof loadBinaryen>>) =>
  b.Features.MVP | b.Features.MutableGlobals | b.Features.SignExt | b.Features.BulkMemory | b.Features.BulkMemoryOpt | b.Features.NontrappingFPToInt |
  b.Features.ExceptionHandling;

/**
 * The runtime's one exception tag (no payload; the message stays in the runtime's error
 * buffer). Builtin errors throw it (abort.ts imports `eh.throw_builtin_error`, which becomes a
 * function doing the throw); generated code catches it around runtime builtin calls. It is the
 * module's only tag, so the generated code refers to it as tag index 0.
 */
export const BUILTIN_ERROR_TAG = 'rego$builtin_error';
const THROW_IMPORT = { module: 'eh', base: 'throw_builtin_error' };

async function build(): Promise<RuntimeTemplate> {
  const b = await loadBinaryen();
  const m = b.readBinary(runtimeInfo().bytes);
  let bytes: Uint8Array;
  try {
    m.setFeatures(FEATURES(b));
    defineThrow(b, m);
    inlineHotCalls(b, m);
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
    const named = readSections(runtimeInfo().bytes).some((s) => s.id === SEC.custom && customName(s.payload) === 'name');
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
  return describe(bytes);
}

/** Replaces the runtime's `eh.throw_builtin_error` import by a function that throws the tag. */
function defineThrow(b: Binaryen, m: InstanceType<Binaryen['Module']>): void {
  let name: string | undefined;
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = b.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.module === THROW_IMPORT.module && info.base === THROW_IMPORT.base) name = info.name;
  }
  if (!name) throw new Error(`runtime does not import ${THROW_IMPORT.module}.${THROW_IMPORT.base}`);
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

function describe(bytes: Uint8Array): RuntimeTemplate {
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
