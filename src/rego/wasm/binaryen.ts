// binaryen.js is ESM-only with top-level await: load it once, lazily. A fatal binaryen error
// ("Aborted(...)", "unreachable") leaves its wasm instance unusable; discardBinaryen() makes
// the next load import a fresh instance (a distinct module URL).
import type BinaryenModule from 'binaryen';

export type Binaryen = typeof BinaryenModule;

let loading: Promise<Binaryen> | undefined;
let generation = 0;

export function loadBinaryen(): Promise<Binaryen> {
  if (!loading) {
    const spec = generation === 0 ? 'binaryen' : `${import.meta.resolve('binaryen')}?instance=${generation}`;
    loading = import(spec).then((mod) => (mod as { default: Binaryen }).default);
  }
  return loading;
}

/** Whether this process has loaded binaryen (linking with a prepared template does not). */
export function binaryenLoaded(): boolean {
  return loading !== undefined || generation > 0;
}

export function discardBinaryen(): void {
  generation++;
  loading = undefined;
}

/** True for errors that mean binaryen's instance is dead. */
export function isBinaryenFatal(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /Aborted\(|unreachable|RuntimeError/.test(msg) || err instanceof WebAssembly.RuntimeError;
}
