// Policy compilation in a worker thread. The Rego toolchain keeps large module-level state once
// it has compiled a policy (~245 MB of JS heap for the example policy, measured): in the
// gateway's isolate every major GC would mark it for the life of the process. In a worker it goes
// away with the worker. When the worker cannot start (e.g. under a test runner whose TypeScript
// transform workers do not inherit), the compile runs in this thread as before.
import { compile, type CompileOptions, type CompileResult } from '../rego/index.js';
import { startModuleWorker } from './worker-start.js';

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
    const w = startModuleWorker(new URL('./compile-worker.js', import.meta.url), { workerData: { options, background } });
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
