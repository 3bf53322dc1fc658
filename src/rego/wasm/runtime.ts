// The prebuilt AssemblyScript runtime (src/rego/runtime/build/runtime.wasm) and facts about
// it the linker needs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RUNTIME_PATH = fileURLToPath(new URL('../runtime/build/runtime.wasm', import.meta.url));

export interface RuntimeInfo {
  bytes: Uint8Array;
  /** Where the runtime's heap starts after its own start function ran. */
  heapBase: number;
}

let cached: RuntimeInfo | undefined;

export function runtimeInfo(): RuntimeInfo {
  if (cached) return cached;
  let bytes: Uint8Array;
  // For profiling: a runtime built with asc --debug (see eval-profile.ts) keeps function names.
  const path = process.env.REGO_RUNTIME_WASM || RUNTIME_PATH;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new Error(`WASM runtime missing at ${path}: run \`npm run build:runtime\``);
  }
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
