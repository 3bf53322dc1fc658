// Runtime errors name the rule or expression that raised them, as OPA's topdown errors do:
// conflicts of complete rules, functions and object keys, through the compiled module and the SDK.
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../toolchain.js';
import { hostBuiltins } from './host.js';
import { evalErrorText, parseEvalError } from './eval-error.js';

const source = `package t

p := 1 if input.a
p := 2 if input.b

obj[k] := v if { some k, v in {"a": 1} }
obj[k] := v if { input.c; some k, v in {"a": 2} }

f(x) := 1 if x > 0
f(x) := 2 if x > 1

comp := {k: v | some v in [1, 2]; k := "same"}
`;

async function errorOf(entrypoint: string, input: unknown): Promise<ReturnType<typeof parseEvalError>> {
  const out = await compile({ modules: [{ file: 'src/t.rego', source }], queries: [{ name: 'q', query: entrypoint }] });
  expect(out.errors).toEqual([]);
  const policy = await loadPolicy(out.wasm!, undefined, hostBuiltins);
  try {
    policy.evaluate(input, 'q');
  } catch (e) {
    return parseEvalError(e);
  }
  throw new Error('no error');
}

describe('runtime errors carry locations', () => {
  it('complete rule, partial object, function and object comprehension conflicts', async () => {
    const p = await errorOf('x := data.t.p', { a: true, b: true });
    expect(p).toEqual({ code: 'eval_conflict_error', message: 'complete rules must not produce multiple outputs', location: { file: 'src/t.rego', row: 4, col: 1 } });
    expect(evalErrorText(p)).toBe('src/t.rego:4: eval_conflict_error: complete rules must not produce multiple outputs');
    expect(await errorOf('x := data.t.obj', { c: true })).toMatchObject({ message: 'object keys must be unique', location: { row: 7 } });
    expect(await errorOf('x := data.t.f(3)', {})).toMatchObject({ message: 'functions must not produce multiple outputs for same inputs', location: { row: 10 } });
    expect(await errorOf('x := data.t.comp', {})).toMatchObject({ message: 'object keys must be unique', location: { row: 12 } });
  });

  it('errors without a location parse as before', () => {
    expect(parseEvalError(new Error('eval_builtin_error: http.send: timeout'))).toEqual({ code: 'eval_builtin_error', message: 'http.send: timeout' });
    expect(evalErrorText({ code: 'eval_type_error', message: 'x' })).toBe('eval_type_error: x');
  });
});
