// Starting a worker thread on one of this package's modules, from the built .js files or, when
// running from the .ts sources (tests, `tsx`), through tsx: Node 20 does not apply the parent's
// --import hooks to workers, so the worker registers tsx itself before importing the module.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker running `module` (a URL made with `new URL('./x.js', import.meta.url)` next to the
 * caller; the .ts sibling is used when the caller runs from sources).
 */
export function startModuleWorker(module: URL, options: WorkerOptions = {}): Worker {
  const fromSources = module.pathname.endsWith('.ts') || import.meta.url.endsWith('.ts');
  const file = fromSources ? new URL(module.href.replace(/\.js$/, '.ts')) : module;
  if (!fromSources) return new Worker(file, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
