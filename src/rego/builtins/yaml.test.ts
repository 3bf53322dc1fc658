import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { createHostBuiltins, hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);

describe('yaml.* (OPA semantics: go-yaml v2 via sigs.k8s.io/yaml)', () => {
  it('unmarshal: YAML 1.1 scalars, first document only, timestamps stay strings', () => {
    expect(call('yaml.unmarshal', 'a: yes\nb: off\nc: 2001-12-14\nd: [1, 2.5, ~]')).toEqual({ a: true, b: false, c: '2001-12-14', d: [1, 2.5, null] });
    expect(call('yaml.unmarshal', '---\na: 1\n---\nb: 2\n')).toEqual({ a: 1 });
    expect(call('yaml.unmarshal', '')).toBeNull();
  });
  it('malformed documents are eval_builtin_errors with go-yaml wording', () => {
    expect(() => call('yaml.unmarshal', '[1,2,3')).toThrow("eval_builtin_error: yaml.unmarshal: error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'");
    expect(() => call('yaml.unmarshal', 'a:\n  b: {')).toThrow("yaml: line 2: did not find expected ',' or '}'");
    expect(() => call('yaml.unmarshal', 5)).toThrow('eval_type_error: yaml.unmarshal: operand 1 must be string but got number');
    expect(createHostBuiltins({ strict: false })['yaml.unmarshal']('[1')).toBeUndefined();
  });
  it('is_valid: false for invalid text and for non-strings', () => {
    expect(call('yaml.is_valid', 'a: 1')).toBe(true);
    expect(call('yaml.is_valid', '{')).toBe(false);
    expect(call('yaml.is_valid', 1)).toBe(false);
  });
  it('marshal: sorted keys, unindented sequences, quoted ambiguous scalars', () => {
    expect(call('yaml.marshal', { foo: [1, 2], bar: 'yes', baz: '1' })).toBe('bar: "yes"\nbaz: "1"\nfoo:\n- 1\n- 2\n');
  });
});

describe('yaml.* through compile() and the SDK reach the host implementation, not the SDK\'s', () => {
  const source = `package y
valid := yaml.is_valid(input.x)
parsed := yaml.unmarshal(input.s)
mocked := x if {
  x := yaml.unmarshal("ignored") with yaml.unmarshal as "mock"
}
`;
  it('the policy calls the private alias; OPA results and errors come back', async () => {
    const r = await compile({ modules: [{ file: 'y.rego', source }], entrypoints: ['y/valid', 'y/parsed', 'y/mocked'], strictBuiltinErrors: true });
    expect(r.errors).toEqual([]);
    const policy = await loadPolicy(r.wasm!, undefined, createHostBuiltins() as never);
    // The SDK's own yaml.is_valid would be undefined for a non-string.
    expect(policy.evaluate({ x: 1 }, 'y/valid')).toEqual([{ result: false }]);
    expect(policy.evaluate({ s: 'k: on' }, 'y/parsed')).toEqual([{ result: { k: true } }]);
    // The SDK's yaml.unmarshal would make this undefined instead of failing.
    expect(() => policy.evaluate({ s: '[1,2' }, 'y/parsed')).toThrow(/eval_builtin_error: yaml.unmarshal: .*did not find expected/);
    expect(policy.evaluate({}, 'y/mocked')).toEqual([{ result: 'mock' }]);
  });
});
