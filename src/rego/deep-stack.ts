// Input nested deeper than the calling thread's stack allows. OPA accepts nesting up to its
// parser's recursion limit (parser.ts MAX_RECURSION_DEPTH: about 12,500 parentheses or 50,000
// array brackets) and compiles whatever parses; a Node thread's default stack ends much
// earlier. Such work is done again in a worker thread whose stack holds OPA's limit
// (deep-worker.ts). Only pathological input gets here.
//
// Results come back as JSON text: V8 parses JSON without recursion, while structured cloning
// a deeply nested AST would overflow this thread's stack again. A location's `text` (the
// source it spans) goes as its length and is sliced from the source again here: nested terms
// span nested text, which written out in full grows with the square of the depth.
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** Enough for OPA's recursion limit in every nesting shape (parentheses need about 40 MB). */
const STACK_MB = 256;
/** The work is linear in the input; this only bounds a worker that never answers. */
const WAIT_MS = 300_000;

export type DeepTask =
  | { kind: 'parse-module'; source: string; file: string }
  | { kind: 'parse-query'; source: string; file: string }
  | { kind: 'check'; options: { modules: Array<{ file: string; source: string }> } }
  | { kind: 'compile'; options: { modules: Array<{ file: string; source: string }> } };

/** The sources a task's result locations point into. */
export function sourcesOf(task: DeepTask): Sources {
  if (task.kind === 'parse-module' || task.kind === 'parse-query') return { [task.file]: task.source };
  return Object.fromEntries(task.options.modules.map((m) => [m.file, m.source]));
}

/** True for the error of a JavaScript stack overflow. */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

const here = fileURLToPath(import.meta.url);
const fromSources = here.endsWith('.ts');
const workerFile = new URL(fromSources ? './deep-worker.ts' : './deep-worker.js', import.meta.url);

function startWorker(workerData: unknown, transferList: Transferable[]): Worker {
  const options = { workerData, transferList, resourceLimits: { stackSizeMb: STACK_MB } } as ConstructorParameters<typeof Worker>[1];
  if (!fromSources) return new Worker(workerFile, options);
  // Running from the TypeScript sources (tests): the worker registers tsx first.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(workerFile.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** Source texts by file name, for the locations of a result (see encodeResult). */
export type Sources = Record<string, string>;

/** The JSON of a result, each location's text that is a slice of its file's source written as its length. */
export function encodeResult(value: unknown, sources: Sources): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    if (key !== 'text' || typeof v !== 'string' || typeof this.offset !== 'number' || typeof this.file !== 'string') return v;
    const src = sources[this.file];
    return src !== undefined && src.startsWith(v, this.offset) ? { $slice: v.length } : v;
  });
}

/** The inverse of encodeResult, walking the parsed JSON without recursion. */
export function decodeResult<T>(json: string, sources: Sources): T {
  const root = JSON.parse(json) as unknown;
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const x = todo.pop();
    if (x === null || typeof x !== 'object') continue;
    if (Array.isArray(x)) {
      for (const e of x) if (e !== null && typeof e === 'object') todo.push(e);
      continue;
    }
    const o = x as Record<string, unknown>;
    const t = o.text as { $slice?: unknown } | undefined;
    if (t && typeof t === 'object' && typeof t.$slice === 'number' && typeof o.offset === 'number' && typeof o.file === 'string') {
      o.text = (sources[o.file] ?? '').slice(o.offset, o.offset + t.$slice);
    }
    for (const v of Object.values(o)) if (v !== null && typeof v === 'object') todo.push(v);
  }
  return root as T;
}

/** A deep-stack worker started on the task, with the port and flag it answers through; undefined if it cannot start. */
function startDeep(task: DeepTask): { sources: ReturnType<typeof sourcesOf>; port1: MessagePort; flag: Int32Array; worker: Worker } | undefined {
  const sources = sourcesOf(task);
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  try {
    return { sources, port1, flag, worker: startWorker({ task, port: port2, flag }, [port2]) };
  } catch {
    return undefined;
  }
}

/** Runs the task in a deep-stack worker and blocks until it answers; undefined if it does not. */
export function runDeepSync<T>(task: DeepTask): T | undefined {
  const run = startDeep(task);
  if (!run) return undefined;
  const { sources, port1, flag, worker } = run;
  worker.on('error', () => {}); // a crash is a missing answer, handled below
  try {
    Atomics.wait(flag, 0, 0, WAIT_MS);
    const got = receiveMessageOnPort(port1) as { message: { json: string } } | undefined;
    return got ? decodeResult<T>(got.message.json, sources) : undefined;
  } finally {
    port1.close();
    void worker.terminate();
  }
}

/** Runs the task in a deep-stack worker without blocking this thread; undefined if it does not answer. */
export async function runDeep<T>(task: DeepTask): Promise<T | undefined> {
  const run = startDeep(task);
  if (!run) return undefined;
  const { sources, port1, worker } = run;
  try {
    const answer = await new Promise<{ json: string } | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), WAIT_MS);
      port1.once('message', (m: { json: string }) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.once('error', () => resolve(undefined));
      worker.once('exit', () => resolve(undefined));
    });
    return answer ? decodeResult<T>(answer.json, sources) : undefined;
  } finally {
    port1.close();
    void worker.terminate();
  }
}
