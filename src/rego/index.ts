// Public surface of the Rego toolchain. Nothing here imports from the gateway: the
// toolchain could be published on its own.
import type { RegoError } from './ast/types.js';

export type { RegoError } from './ast/types.js';

export interface SourceModule {
  file: string; // name used in error locations, e.g. `policies/sip/decision.rego`
  source: string;
}

export interface CompileOptions {
  modules: SourceModule[];
  /** Entrypoints as OPA paths (`sip/decision`): each plans the query `data.sip.decision`, result key `result`. */
  entrypoints?: string[];
  /** Ad-hoc queries (e.g. `data.test.p = x`): each becomes a plan whose result set holds its bindings. */
  queries?: Array<{ name: string; query: string }>;
  /** OPA strict mode. */
  strict?: boolean;
  /** Run binaryen's optimizer on the linked module (slower compile, smaller/faster module). */
  optimize?: boolean;
}

export interface CompileResult {
  wasm?: Uint8Array; // absent when errors is non-empty
  errors: RegoError[];
  /** Entrypoint name -> id, as the module's `entrypoints()` export reports them. */
  entrypoints?: Record<string, number>;
}

/** Compile Rego modules to an OPA-ABI WASM module. Filled in by the planner/back-end work. */
export async function compile(_options: CompileOptions): Promise<CompileResult> {
  return { errors: [{ code: 'rego_compile_error', message: 'compiler not implemented yet' }] };
}
