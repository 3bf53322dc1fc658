// The worker of deep-stack.ts: runs a parse, check or compile with a stack sized for OPA's
// recursion limit, hands the result back as JSON and wakes a caller waiting on the flag.
import { workerData, type MessagePort } from 'node:worker_threads';
import { encodeResult, sourcesOf, type DeepTask } from './deep-stack.js';
import { checkWithin, compileWithin, type CheckOptions, type CompileOptions } from './toolchain.js';
import { parseModule, parseQuery } from './parser/index.js';

const { task, port, flag } = workerData as { task: DeepTask; port: MessagePort; flag: Int32Array };

async function run(): Promise<unknown> {
  switch (task.kind) {
    case 'parse-module':
      return parseModule(task.source, task.file, { deep: true });
    case 'parse-query':
      return parseQuery(task.source, task.file, { deep: true });
    case 'check':
      return checkWithin(task.options as CheckOptions, true);
    case 'compile': {
      const r = await compileWithin(task.options as CompileOptions, true);
      // JSON carries the module as base64
      return { ...r, wasm: r.wasm ? Buffer.from(r.wasm).toString('base64') : undefined };
    }
  }
}

let json: string;
try {
  json = encodeResult(await run(), sourcesOf(task));
} catch (err) {
  json = JSON.stringify({ errors: [{ code: 'rego_compile_error', message: `internal error: ${(err as Error)?.message ?? String(err)}` }] });
}
port.postMessage({ json });
Atomics.store(flag, 0, 1);
Atomics.notify(flag, 0);
