// The prebuilt AssemblyScript runtime (src/rego/runtime/build/runtime.wasm) and facts about
// it the linker needs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the runtime is built (and prepared templates are shipped): next to this module's folder. */
export const RUNTIME_DIR = fileURLToPath(new URL('../runtime/build/', import.meta.url));
export const RUNTIME_PATH = fileURLToPath(new URL('../runtime/build/runtime.wasm', import.meta.url));

export interface RuntimeInfo {
  bytes: Uint8Array;
  /** Where the runtime's heap starts after its own start function ran. */
  heapBase: number;
}

let bytesCache: Uint8Array | undefined;

/** The runtime's bytes (for profiling, $REGO_RUNTIME_WASM may name a runtime built with asc --debug). */
export function runtimeBytes(): Uint8Array {
  if (bytesCache) return bytesCache;
  const path = process.env.REGO_RUNTIME_WASM || RUNTIME_PATH;
  try {
    bytesCache = new Uint8Array(readFileSync(path));
  } catch {
    throw new Error(`WASM runtime missing at ${path}: run \`npm run build:runtime\``);
  }
  return bytesCache;
}

let cached: RuntimeInfo | undefined;

export function runtimeInfo(): RuntimeInfo {
  if (cached) return cached;
  const bytes = runtimeBytes();
  // Instantiate once with inert imports to ask the runtime where its heap begins.
  const memory = new WebAssembly.Memory({ initial: 2 });
  const fail = () => {
    throw new Error('runtime hook called while probing');
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {
    env: { memory, opa_abort: fail, opa_println: fail, opa_builtin0: fail, opa_builtin1: fail, opa_builtin2: fail, opa_builtin3: fail, opa_builtin4: fail },
    policy: { eval: fail, builtins_json: fail, entrypoints_json: fail },
    eh: { throw_builtin_error: fail },
  });
  const heapBase = (instance.exports.opa_heap_ptr_get as () => number)();
  cached = { bytes, heapBase };
  return cached;
}
