// End to end through the official SDK: `with` mocks whose value is a variable of the calling
// body (the mocked call sits in another rule's function), and number keys into base documents.
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';

async function run(source: string, query: string, input?: unknown, data?: object): Promise<unknown> {
  const out = await compile({ modules: [{ file: 'test.rego', source }], queries: [{ name: 'q', query }] });
  expect(out.errors).toEqual([]);
  const policy = await loadPolicy(out.wasm!);
  if (data) policy.setData(data);
  const fast = policy.evaluate(input, 'q');
  (policy as unknown as { minorVersion: number }).minorVersion = 1;
  expect(policy.evaluate(input, 'q')).toEqual(fast);
  return fast;
}

describe('with mocks that read caller variables', () => {
  it('passes a scanned variable to the function that makes the mocked call', async () => {
    const src = `package test
p contains v if {
  some v in [1, 3, 5]
  q with count as v
}
q if r
r if count("foo") == 3`;
    expect(await run(src, 'x = data.test.p')).toEqual([{ x: [3] }]);
  });

  it('nests: each mock keeps its own caller variable', async () => {
    const src = `package test
p if {
  v := 3
  m with count as v
}
m if {
  v := "300"
  sprintf("x", []) == "x"
  n with sprintf as v
}
n if {
  count(input) == 3
  sprintf("", input) == "300"
}`;
    expect(await run(src, 'x = data.test.p', {})).toEqual([{ x: true }]);
  });

  it('plans the same rule mocked and unmocked', async () => {
    const src = `package test
p := [a, b] if {
  v := 7
  a := q with count as v
  b := q
}
q := count([1, 2])`;
    expect(await run(src, 'x = data.test.p')).toEqual([{ x: [7, 2] }]);
  });
});

describe('number keys into base documents', () => {
  it('reads data[2] as data["2"], but not a number key into a plain value', async () => {
    const src = `package test
p := data.nested[2]
q := obj[2] if obj := data.nested`;
    expect(await run(src, 'x = data.test.p', undefined, { nested: { '2': 'bar' } })).toEqual([{ x: 'bar' }]);
    expect(await run(src, 'x = data.test.q', undefined, { nested: { '2': 'bar' } })).toEqual([]);
  });
});
