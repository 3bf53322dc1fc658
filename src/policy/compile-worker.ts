// Worker entry of compileIsolated(): compiles and posts the result (plain data) back.
import { parentPort, workerData } from 'node:worker_threads';
import { compile, type CompileOptions } from '../rego/index.js';

const out = await compile(workerData as CompileOptions);
const errors = out.errors.map((e) => ({ code: e.code, message: e.message, ...(e.location ? { location: { ...e.location } } : {}) }));
parentPort!.postMessage({ wasm: out.wasm, errors, entrypoints: out.entrypoints }, out.wasm ? [out.wasm.buffer as ArrayBuffer] : []);
