// binaryen.js is ESM-only with top-level await: load it once, lazily.
import type BinaryenModule from 'binaryen';

export type Binaryen = typeof BinaryenModule;

let loading: Promise<Binaryen> | undefined;

export function loadBinaryen(): Promise<Binaryen> {
  loading ??= import('binaryen').then((mod) => (mod as unknown as { default: Binaryen }).default);
  return loading;
}
