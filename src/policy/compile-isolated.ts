// Policy compilation in a worker thread. The Rego toolchain keeps large module-level state once
// it has compiled a policy (~245 MB of JS heap for the example policy, measured): in the
// gateway's isolate every major GC would mark it for the life of the process. In a worker it goes
// away with the worker. When the worker cannot start (e.g. under a test runner whose TypeScript
// transform workers do not inherit), the compile runs in this thread as before.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { compile, type CompileOptions, type CompileResult } from '../rego/index.js';

const here = fileURLToPath(import.meta.url);
const fromSources = here.endsWith('.ts');
const workerFile = new URL(fromSources ? './compile-worker.ts' : './compile-worker.js', import.meta.url);

/** How to start the worker: the built .js file, or (running from .ts sources) tsx first. */
function startWorker(workerData: unknown): Worker {
  if (!fromSources) return new Worker(workerFile, { workerData });
  // Node 20 does not apply the parent's --import hooks to workers: register tsx in the worker.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(workerFile.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** Set when the worker path failed to start once: later compiles go straight to this thread. */
let workerBroken = false;

/** `background`: a recompile while the gateway serves traffic (the worker runs at a lower CPU priority). */
export async function compileIsolated(options: CompileOptions, opts: { background?: boolean } = {}): Promise<CompileResult & { isolated: boolean }> {
  if (!workerBroken) {
    const r = await inWorker(options, opts.background === true).catch(() => undefined);
    if (r) return { ...r, isolated: true };
    workerBroken = true;
  }
  return { ...(await compile(options)), isolated: false };
}

function inWorker(options: CompileOptions, background: boolean): Promise<CompileResult> {
  return new Promise((resolve, reject) => {
    let done = false;
    const w = startWorker({ options, background });
    w.once('message', (m: CompileResult) => {
      done = true;
      resolve(m);
      void w.terminate();
    });
    w.once('error', (e) => {
      if (!done) reject(e);
    });
    w.once('exit', (code) => {
      if (!done) reject(new Error(`compile worker exited with ${code}`));
    });
  });
}
