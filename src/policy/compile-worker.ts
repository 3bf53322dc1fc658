// Worker entry of compileIsolated(): compiles and posts the result (plain data) back.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { compile, type CompileOptions } from '../rego/index.js';

const { options, background } = workerData as { options: CompileOptions; background?: boolean };

// A recompile while traffic runs is background work: at a lower CPU priority (nice 10: about a
// tenth of a busy core's share) it takes what the SIP traffic leaves instead of competing with
// it. The first compile, before anything is served, runs at normal priority. (Linux keeps a nice
// value per thread, and pid 0 is the calling thread: only this worker is affected.)
if (background) {
  try {
    setPriority(0, 10);
  } catch {
    // not permitted here: compile at normal priority
  }
}

const out = await compile(options);
const errors = out.errors.map((e) => ({ code: e.code, message: e.message, ...(e.location ? { location: { ...e.location } } : {}) }));
parentPort!.postMessage({ wasm: out.wasm, errors, entrypoints: out.entrypoints }, out.wasm ? [out.wasm.buffer as ArrayBuffer] : []);
