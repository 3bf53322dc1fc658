// sprintf in the WASM runtime, with Go fmt results for OPA's argument types (int, *big.Int,
// float64, string, and other values as their Rego text).
import { describe, it, expect } from 'vitest';
import { evalExpr } from './builtins-test-helpers.js';

const cases: Array<[string, unknown[], string]> = [
  ['%s/%d', ['sip', 5061], 'sip/5061'],
  ['%v %v', [0.00001, 0.0001], '1e-05 0.0001'],
  ['%.2f|%02X.%02X|%02d|%5s|%-5s|%x', [3.14159, 10, 255, 7, 'ab', 'ab', 'hi'], '3.14|0A.FF|07|   ab|ab   |6869'],
  // fixed precision rounds the float64's exact value, ties to even
  ['%.1f %.0f %.0f %.2f %.2f %.3e', [0.05, 0.5, 1.5, 2.675, 1.005, 1234.5], '0.1 0 2 2.67 1.00 1.234e+03'],
  ['%e %E %.3g %8.3f|%+d|% d|%05d|%-4d|', [1234.5678, 0.00012, 3.14159, -2.5, 5, 5, -42, 7], '1.234568e+03 1.200000E-04 3.14   -2.500|+5| 5|-0042|7   |'],
  ['%x %o %b %#x %X %O', [255, 8, 5, 255, 10, 8], 'ff 10 101 0xff A 0o10'],
  ['%q %T %T %T %c %U', ['a"b\n', 1, 1.5, 'x', 65, 9731], '"a\\"b\\n" int float64 string A U+2603'],
  ['%d %s', [3.5, 7], '%!d(float64=3.5) %!s(int=7)'],
  ['%d %d', [1], '1 %!d(MISSING)'],
  ['%d', [1, 'a', [1, 'b']], '1%!(EXTRA string=a, string=[1, "b"])'],
  ['%v %s %t', [{ a: [null, true] }, true, false], '{"a": [null, true]} true %!t(string=false)'],
  ['100%% %', [], '100% %!(NOVERB)'],
  ['%.3s|%6.2s|', ['héllo', 'wörld'], 'hél|    wö|'],
];

describe('sprintf', () => {
  it('formats like Go fmt', async () => {
    for (const [f, args, want] of cases) {
      expect(await evalExpr('sprintf(input.f, input.a)', { f, a: args }), f).toBe(want);
    }
  });

  it('prints non-integral number literals as float64 (%v is shortest %g)', async () => {
    expect(await evalExpr('sprintf("%v|%v|%v|%d", [1.0, 1000000.0, 123456.7, 2.0])')).toBe('1|1e+06|123456.7|%!d(float64=2)');
  });

  it('keeps big integers exact and prints floats beyond float64 as their text', async () => {
    expect(await evalExpr('sprintf("%s %d %x", [123456789123456789123, -1208925819614629174706175, 1208925819614629174706175])')).toBe(
      '123456789123456789123 -1208925819614629174706175 ffffffffffffffffffff',
    );
    expect(await evalExpr('sprintf("hi %v", [2e308])')).toBe('hi 2e308');
  });

  it('handles long output', async () => {
    const got = (await evalExpr('sprintf("%s-%s", [input, input])', 'x'.repeat(100_000))) as string;
    expect(got.length).toBe(200_001);
  });

  it('does not reuse buffers across evaluations (the heap is rewound between them)', async () => {
    const { compile } = await import('../index.js');
    const { loadPolicy } = await import('@open-policy-agent/opa-wasm');
    const c = await compile({
      modules: [{ file: 't.rego', source: 'package t\n\nr := [sprintf("%8s|%-3d|%.2f", [input.a, input.n, input.f]), input.b, {k | some k in input.c}]\n' }],
      entrypoints: ['t/r'],
    });
    const policy = await loadPolicy(c.wasm!);
    for (let i = 0; i < 5; i++) {
      const input = { a: 'é'.repeat(300 + i), n: i, f: i + 0.125, b: String(i).repeat(2000), c: ['x', 'y', String(i)] };
      const [res] = policy.evaluate(input) as Array<{ result: unknown[] }>;
      expect(res!.result[0]).toBe(`${input.a}|${String(i).padEnd(3)}|${(i + 0.12).toFixed(2)}`);
      expect(res!.result[1]).toBe(input.b);
      expect(res!.result[2]).toEqual([String(i), 'x', 'y'].sort());
    }
  });

  it('type-checks its operands', async () => {
    await expect(evalExpr('sprintf(input, [])', 1)).rejects.toThrow('eval_type_error: sprintf: operand 1 must be string but got number');
    await expect(evalExpr('sprintf("%v", input)', 1)).rejects.toThrow('eval_type_error: sprintf: operand 2 must be array but got number');
  });
});
