// Worker entry of compileIsolated(): compiles and posts the result (plain data) back.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { compile, type CompileOptions } from '../rego/index.js';

// The compile is background work: at the lowest CPU priority it takes what the SIP traffic leaves
// instead of competing with it on a busy machine. (Linux keeps a nice value per thread, and pid 0
// is the calling thread: only this worker is affected.)
try {
  setPriority(0, 19);
} catch {
  // not permitted here: compile at normal priority
}

const out = await compile(workerData as CompileOptions);
const errors = out.errors.map((e) => ({ code: e.code, message: e.message, ...(e.location ? { location: { ...e.location } } : {}) }));
parentPort!.postMessage({ wasm: out.wasm, errors, entrypoints: out.entrypoints }, out.wasm ? [out.wasm.buffer as ArrayBuffer] : []);
