// Runs test evaluations in a worker thread so that `--timeout` is real: the SDK evaluates
// synchronously and cannot be interrupted, so a test over its time is stopped by terminating
// the worker (the next test gets a fresh one), as OPA cancels the evaluation's context. Idle
// workers are kept for the next run in this process. When no worker can be started (a test
// runner whose TypeScript transform workers do not inherit), the evaluations run in this thread
// and a test over its time is reported as cancelled after it finished.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
// Only types from evaluate.ts: the SDK and the host builtins load in the worker, and in this thread
// only for the fallback.
import type { EvalReply, EvalRequest, EvaluatorInit, TestEvaluation } from './evaluate.js';

export const CANCEL_ERROR = { code: 'eval_cancel_error', message: 'caller cancelled query execution' };

const here = fileURLToPath(import.meta.url);
const fromSources = here.endsWith('.ts');
const workerFile = new URL(fromSources ? './eval-worker.ts' : './eval-worker.js', import.meta.url);

function startWorker(): Worker {
  if (!fromSources) return new Worker(workerFile);
  // Node 20 does not apply the parent's --import hooks to workers: register tsx in the worker.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(workerFile.href)}); })`;
  return new Worker(boot, { eval: true });
}

/** A started worker, waiting for `ready`. */
function spawn(): Promise<Worker> {
  const worker = startWorker();
  worker.unref();
  return new Promise<Worker>((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`test worker exited with ${code}`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (m) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (m === 'ready') resolve(worker);
      else reject(new Error('test worker did not start'));
    });
  });
}

const idle: Worker[] = [];
/** Workers started ahead of need (prewarm()), still booting; undefined when one failed to start. */
const warming: Array<Promise<Worker | undefined>> = [];

/**
 * Starts a worker now, when none is idle or starting, so that its boot (a fresh isolate loading
 * the SDK and the host builtins) overlaps the compilation of the tests on this thread.
 */
export function prewarm(): void {
  if (idle.length > 0 || warming.length > 0) return;
  warming.push(spawn().catch(() => undefined));
}

async function nextWorker(): Promise<Worker> {
  const w = idle.pop() ?? (warming.length > 0 ? await warming.shift()! : undefined);
  return w ?? spawn();
}

function reply<T>(worker: Worker, send: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`test worker exited with ${code}`));
    worker.once('exit', onExit);
    worker.once('message', (m: T) => {
      worker.off('exit', onExit);
      resolve(m);
    });
    worker.postMessage(send);
  });
}

export class TestEvaluator {
  private worker: Worker | undefined;
  private inThread: TestEvaluation | undefined;
  /** Whether evaluations run in a worker (timeouts interrupt them). */
  isolated = true;

  constructor(private readonly init: EvaluatorInit) {}

  private async acquire(): Promise<Worker | undefined> {
    if (this.worker) return this.worker;
    if (!this.isolated) return undefined;
    try {
      const w = await nextWorker();
      const loaded = await reply<{ loaded: boolean; message?: string }>(w, { load: this.init });
      if (!loaded.loaded) {
        void w.terminate();
        throw new Error(loaded.message);
      }
      this.worker = w;
      return w;
    } catch {
      this.isolated = false;
      return undefined;
    }
  }

  /** Evaluate one test; over `timeoutMs` it is cancelled (an eval_cancel_error result). */
  async run(req: EvalRequest, timeoutMs: number): Promise<EvalReply> {
    const worker = await this.acquire();
    if (!worker) {
      this.inThread ??= await (await import('./evaluate.js')).TestEvaluation.load(this.init);
      const r = this.inThread.run(req);
      return r.durationNs > timeoutMs * 1e6 ? { ...r, defined: false, value: undefined, error: CANCEL_ERROR, bench: undefined } : r;
    }
    const started = process.hrtime.bigint();
    const failed = (error: EvalReply['error']): EvalReply => ({ defined: false, error, durationNs: Number(process.hrtime.bigint() - started), testCases: [], covered: [] });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      const r = await Promise.race([reply<EvalReply>(worker, req), timedOut]);
      if (r !== 'timeout') return r;
      this.discard();
      return failed(CANCEL_ERROR);
    } catch (e) {
      this.discard();
      return failed({ code: 'eval_internal_error', message: `test evaluation stopped: ${(e as Error).message}` });
    } finally {
      clearTimeout(timer);
    }
  }

  private discard(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      w.removeAllListeners('message');
      void w.terminate();
    }
  }

  /** Hand the worker back for a later run. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) idle.push(w);
  }
}
