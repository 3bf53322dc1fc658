// print() end to end: compiled with print enabled, evaluated through the SDK, the host hook gets
// OPA's lines (cross product of operand values, <undefined>, OPA's value texts) and locations.
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../toolchain.js';
import { hostBuiltins } from './host.js';
import { printBuiltin, printLines } from './print.js';

describe('print()', () => {
  it('cross product of operand values, <undefined> for an empty operand', () => {
    expect(printLines([['a'], [], ['1', '2']])).toEqual(['a <undefined> 1', 'a <undefined> 2']);
    expect(printLines([])).toEqual(['']);
  });

  it('prints through the compiled module with locations; erased without print', async () => {
    const source = `package t
p if {
  print("hello", input.missing, {2, 1}, ["a"], {"k": null}, 1.5)
  ys := [y | some y in input.xs; print("y", y)]
  print(count(ys))
  some z in [1, 2]
  print("again")
}`;
    const out = await compile({ modules: [{ file: 'p.rego', source }], entrypoints: ['t/p'], print: true });
    expect(out.errors).toEqual([]);
    const lines: string[] = [];
    const policy = await loadPolicy(out.wasm!, undefined, { ...hostBuiltins, ...printBuiltin((m, l) => lines.push(`${l.file}:${l.row} ${m}`)) });
    expect(policy.evaluate({ xs: ['q', 'r'] }, 't/p')).toEqual([{ result: true }]);
    expect(lines).toEqual(['p.rego:3 hello <undefined> {1, 2} ["a"] {"k": null} 1.5', 'p.rego:4 y q', 'p.rego:4 y r', 'p.rego:5 2', 'p.rego:7 again', 'p.rego:7 again']); // a call with the same operands prints every time
    const erased = await compile({ modules: [{ file: 'p.rego', source }], entrypoints: ['t/p'] });
    const plain = await loadPolicy(erased.wasm!, undefined, hostBuiltins);
    expect(plain.evaluate({ xs: [] }, 't/p')).toEqual([{ result: true }]);
  });
});
