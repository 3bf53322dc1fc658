// The runtime's fast paths for objects and sets, through the official SDK: the JSON parser
// sorts object members once (by an 8-byte key prefix, then whole keys) and keeps pending
// members on a stack that may move to the heap; lookups binary-search sorted objects and
// hash only collections that lost their order. Each case would show a wrong or missing
// member if one of those paths were off.
import { describe, it, expect } from 'vitest';
import { evalRule } from './builtins-test-helpers.js';

// deterministic shuffle
function shuffled<T>(xs: T[], seed = 7): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('objects parsed from JSON', () => {
  it('sorts members by whole keys, also where the first 8 bytes are equal or keys are prefixes', async () => {
    const keys = ['abcdefgh', 'abcdefghi', 'abcdefgh\u0000', 'abc', 'abc\u0000', 'ab', 'a', '', 'abcdefgg~', 'b', 'é', 'abcdefgi'];
    const obj = Object.fromEntries(shuffled(keys).map((k, i) => [k, i]));
    const r = await evalRule('r := [k | some k, _ in input]', obj);
    expect(r).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  });

  it('finds every member of a large unordered object, and misses absent keys', async () => {
    const keys = shuffled(Array.from({ length: 300 }, (_, i) => `X-Header-${i}-${'p'.repeat(i % 13)}`));
    const obj = Object.fromEntries(keys.map((k) => [k, k.length]));
    const r = await evalRule(
      'r := {"found": [v | some k in input.keys; v := input.obj[k]], "missing": [k | some k in ["X-Header-3", "", "x-header-1-p"]; not input.obj[k]]}',
      { obj, keys },
    );
    expect(r).toEqual({ found: keys.map((k) => k.length), missing: ['X-Header-3', '', 'x-header-1-p'] });
  });

  it('keeps the last of duplicate keys, as Go does', async () => {
    // JSON text with duplicates cannot come from JSON.stringify: pass the raw bytes
    const text = '{"b": 1, "a": 2, "b": 3, "c": {"x": 1, "x": 2}, "a": 4}';
    const r = await evalRule('r := [input.a, input.b, input.c, count(input)]', new TextEncoder().encode(text).buffer);
    expect(r).toEqual([4, 3, { x: 2 }, 3]);
  });

  it('parses documents whose pending members overflow the parser stack', async () => {
    const wide = Object.fromEntries(shuffled(Array.from({ length: 3000 }, (_, i) => [`k${i}`, [i, { i }]])));
    const long = Array.from({ length: 5000 }, (_, i) => i);
    const r = await evalRule('r := [count(input.wide), input.wide.k2999[1].i, input.wide.k0[0], count(input.long), input.long[4999]]', { wide, long });
    expect(r).toEqual([3000, 2999, 0, 5000, 4999]);
  });

  it('parses objects and arrays nested up to the depth limit, and rejects deeper ones without overflowing the stack', async () => {
    const deep = (d: number, open: string, close: string) => new TextEncoder().encode(open.repeat(d) + '1' + close.repeat(d)).buffer;
    for (const [open, close] of [['{"a":', '}'], ['[', ']'], ['{"k": [', ']}']]) {
      expect(await evalRule('r := 1 if input', deep(open.length > 5 ? 2048 : 4096, open, close))).toBe(1);
      await expect(evalRule('r := 1 if input', deep(100000, open, close))).rejects.toThrow(/not valid JSON/);
    }
  });

  it('compares parsed objects with objects built during evaluation', async () => {
    const r = await evalRule(
      'r := [input.o == {"z": 1, "a": 2, "m": [1, {"q": 3, "b": 4}]}, {input.o, {"m": [1, {"b": 4, "q": 3}], "a": 2, "z": 1}} == {input.o}]',
      { o: { m: [1, { q: 3, b: 4 }], z: 1, a: 2 } },
    );
    expect(r).toEqual([true, true]);
  });
});

describe('objects and sets built during evaluation', () => {
  it('deduplicates and finds members of large sets built out of order', async () => {
    const xs = shuffled(Array.from({ length: 200 }, (_, i) => `m${i % 150}`));
    const r = await evalRule('s := {x | some x in input.xs}\nr := [count(s), "m149" in s, "m150" in s, [x | some x in input.probe; x in s]]', {
      xs,
      probe: ['m0', 'm75', 'nope', 'm12'],
    });
    expect(r).toEqual([150, true, false, ['m0', 'm75', 'm12']]);
  });

  it('looks up large objects built out of order, with numbers and strings as keys', async () => {
    const r = await evalRule(
      'o := {k: i | some i in numbers.range(0, 99); k := sprintf("k%d", [(i * 37) % 100])}\n' +
        'n := {((i * 53) % 100): i | some i in numbers.range(0, 99)}\n' +
        'r := [count(o), o.k0, o.k37, o.k99, object.get(o, "k100", "none"), n[0], n[53], n[6], count(n)]',
    );
    expect(r).toEqual([100, 0, 1, 27, 'none', 0, 1, 2, 100]);
  });

  it('deduplicates sets of objects and arrays (hashed collections as members)', async () => {
    const objs = shuffled([...Array.from({ length: 20 }, (_, i) => ({ a: i % 10, b: [i % 10] })), ...Array.from({ length: 5 }, () => ({ b: [1], a: 1 }))]);
    const r = await evalRule('s := {o | some o in input}\nr := [count(s), {"a": 1, "b": [1]} in s, {"a": 1, "b": [2]} in s]', objs);
    expect(r).toEqual([10, true, false]);
  });
});
