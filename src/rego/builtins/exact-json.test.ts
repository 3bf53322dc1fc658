import { describe, expect, it } from 'vitest';
import { ExactJSONError, parseExactJSON } from './exact-json.js';

describe('parseExactJSON', () => {
  it('keeps integers beyond 2^53 exact as bigints, everything else as JSON.parse does', () => {
    expect(parseExactJSON('1670006453141828752')).toBe(1670006453141828752n);
    expect(parseExactJSON('[1, -9007199254740993, 1.5, -1e9, "a\\u00e9", true, null]')).toEqual([1, -9007199254740993n, 1.5, -1e9, 'aé', true, null]);
    expect(parseExactJSON(' {"a": {"b": []}, "c": {}} ')).toEqual({ a: { b: [] }, c: {} });
  });
  it('rejects malformed text', () => {
    for (const bad of ['', '[1,]', '{"a" 1}', '[1 2]', '01', 'tru', '"\\x"', '[1]x']) expect(() => parseExactJSON(bad)).toThrow(ExactJSONError);
  });
  it('reads very deep nesting without recursion', () => {
    const depth = 100_000;
    let v = parseExactJSON('['.repeat(depth) + ']'.repeat(depth));
    let n = 0;
    while (Array.isArray(v) && v.length > 0) {
      v = v[0];
      n++;
    }
    expect(n).toBe(depth - 1);
  });
});
