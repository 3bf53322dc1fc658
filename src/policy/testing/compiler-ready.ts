// Whether src/rego's compile() works yet (it is built in parallel with this layer). Tests that
// need real Rego use `describe.skipIf(!await compilerReady())`.
import { compile } from '../../rego/index.js';

let ready: Promise<boolean> | undefined;

export function compilerReady(): Promise<boolean> {
  ready ??= compile({
    modules: [{ file: 'probe.rego', source: 'package probe\n\nx := 1\n' }],
    entrypoints: ['probe/x'],
  }).then(
    (r) => r.errors.length === 0 && r.wasm !== undefined,
    () => false,
  );
  return ready;
}
