// WASM back end: IR -> OPA-ABI WebAssembly module.
export { emitWasm, runtimeBuiltins, runtimeBuiltinExport, WasmCompileError, type EmitOptions } from './emit.js';
