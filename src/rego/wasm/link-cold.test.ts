// Linking with a prepared runtime template never loads binaryen (its load was most of a cold
// start). The suite's global setup prepares the templates next to the runtime, as the package
// build does. This file runs in its own module graph, so nothing else loaded binaryen before.
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { binaryenLoaded } from './binaryen.js';

describe('linking with a prepared template', () => {
  it('compiles, links and evaluates without loading binaryen, in both modes', async () => {
    for (const exceptionHandling of [true, false]) {
      const r = await compile({ modules: [{ file: 'a.rego', source: 'package a\n\nallow if input.user == "alice"\n' }], entrypoints: ['a/allow'], exceptionHandling });
      expect(r.errors).toEqual([]);
      const policy = await loadPolicy(r.wasm!);
      expect(policy.evaluate({ user: 'alice' })).toEqual([{ result: true }]);
    }
    expect(binaryenLoaded()).toBe(false);
  });

  it('loads binaryen only to optimize', async () => {
    const r = await compile({ modules: [{ file: 'a.rego', source: 'package a\n\np := 1\n' }], entrypoints: ['a/p'], optimize: true });
    expect(r.errors).toEqual([]);
    expect(binaryenLoaded()).toBe(true);
  });
});
