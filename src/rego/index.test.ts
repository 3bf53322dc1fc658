import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { describe, expect, it } from 'vitest';
import { check, compile } from './index.js';

describe('compile()', () => {
  it('compiles entrypoints like `opa build -e` and evaluates them through the SDK', async () => {
    const r = await compile({
      modules: [{ file: 'sip.rego', source: 'package sip\n\ndefault allow := false\n\nallow if input.user == "alice"\n' }],
      entrypoints: ['sip/allow'],
    });
    expect(r.errors).toEqual([]);
    expect(r.entrypoints).toEqual({ 'sip/allow': 0 });
    const policy = await loadPolicy(r.wasm!);
    expect(policy.evaluate({ user: 'alice' }, 'sip/allow')).toEqual([{ result: true }]);
    expect(policy.evaluate({ user: 'bob' }, 'sip/allow')).toEqual([{ result: false }]);
  });

  it('returns errors with OPA codes instead of throwing', async () => {
    const bad = await compile({ modules: [{ file: 'x.rego', source: 'package x\n\np if {' }], entrypoints: ['x/p'] });
    expect(bad.wasm).toBeUndefined();
    expect(bad.errors[0]?.code).toBe('rego_parse_error');
    const unsafe = await compile({ modules: [{ file: 'x.rego', source: 'package x\n\np if y > 1\n' }], entrypoints: ['x/p'] });
    expect(unsafe.errors[0]?.code).toBe('rego_unsafe_var_error');
    const noEp = await compile({ modules: [] });
    expect(noEp.errors[0]?.code).toBe('rego_compile_error');
    const badEp = await compile({ modules: [], entrypoints: ['a//b'] });
    expect(badEp.errors[0]?.code).toBe('rego_compile_error');
  });

  it('compiles and checks policies nested deeper than this thread\'s stack (as OPA does)', { timeout: 120_000 }, async () => {
    const n = 1500;
    const source = `package deep\n\np := ${'['.repeat(n)}"x"${']'.repeat(n)}\n\nq := count(p)\n`;
    const r = await compile({ modules: [{ file: 'deep.rego', source }], entrypoints: ['deep/q'] });
    expect(r.errors).toEqual([]);
    const policy = await loadPolicy(r.wasm!);
    expect(policy.evaluate({}, 'deep/q')).toEqual([{ result: 1 }]);
    const checked = check({ modules: [{ file: 'deep.rego', source }] });
    expect(checked.errors).toEqual([]);
    expect(checked.compiled?.[0]?.rules.length).toBe(2);
    const bad = check({ modules: [{ file: 'deep.rego', source: source + 'r := y\n' }] });
    expect(bad.errors.map((e) => e.code)).toEqual(['rego_unsafe_var_error']);
  });
});
