// compileIsolated: the worker path gives what compile() gives in this thread.
import { describe, expect, it } from 'vitest';
import { compile } from '../rego/index.js';
import { compileIsolated } from './compile-isolated.js';
import { compilerReady } from './testing/compiler-ready.js';

const ready = await compilerReady();

describe.skipIf(!ready)('compileIsolated', () => {
  it('compiles in a worker thread: the same module bytes as in this thread', async () => {
    const opts = { modules: [{ file: 'p.rego', source: 'package sip\n\ndecision := {"allow": input.x == 1}\n' }], entrypoints: ['sip/decision'] };
    const [a, b] = [await compileIsolated(opts), await compile(opts)];
    expect(a.isolated).toBe(true);
    expect(a.errors).toEqual([]);
    expect(Buffer.from(a.wasm!).equals(Buffer.from(b.wasm!))).toBe(true);
  });

  it('brings errors back as plain data with their locations', async () => {
    const r = await compileIsolated({ modules: [{ file: 'bad.rego', source: 'package x\n\ny := \n' }], entrypoints: ['x/y'] });
    expect(r.wasm).toBeUndefined();
    expect(r.errors[0]).toMatchObject({ code: 'rego_parse_error', location: { file: 'bad.rego' } });
  });
});
