import { describe, expect, it } from 'vitest';
import { conformanceCases } from './testing/suite.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);

describe('glob.* conformance (direct calls)', () => {
  const n = conformanceCases(['globmatch', 'globquotemeta']);
  it('finds the direct-call cases', () => expect(n).toBeGreaterThanOrEqual(23));
});

describe('glob.match edge cases', () => {
  it('delimiters: [] means ".", null means none', () => {
    expect(call('glob.match', '*', [], 'a.b')).toBe(false);
    expect(call('glob.match', '*', null, 'a.b')).toBe(true);
    expect(call('glob.match', '**', [], 'a.b')).toBe(true);
    expect(call('glob.match', 'a?c', ['.'], 'a.c')).toBe(false);
  });
  it('classes, alternatives and escapes', () => {
    expect(call('glob.match', '{a*,b?}.com', [], 'abc.com')).toBe(true);
    expect(call('glob.match', '{a*,b?}.com', [], 'bcd.com')).toBe(false);
    expect(call('glob.match', '\\*.com', [], '*.com')).toBe(true);
    expect(call('glob.match', '\\*.com', [], 'x.com')).toBe(false);
    expect(call('glob.match', '[!a-c]x', [], 'dx')).toBe(true);
    expect(call('glob.match', 'a/b', [], 'a/b')).toBe(true);
  });
  it('errors', () => {
    expect(() => call('glob.match', '[abc', [], 'a')).toThrow(/^eval_builtin_error: glob.match: /);
    expect(() => call('glob.match', '*', 'x', 'a')).toThrow('eval_type_error: glob.match: operand 2 must be one of {array, null} but got string');
    expect(() => call('glob.match', '*', ['ab'], 'a')).toThrow('operand 2 must be array of runes but got array containing string');
  });
  it('quote_meta round-trips', () => {
    const q = call('glob.quote_meta', '*.{a,b}[x]?\\') as string;
    expect(q).toBe('\\*.\\{a,b\\}\\[x\\]\\?\\\\');
    expect(call('glob.match', q, [], '*.{a,b}[x]?\\')).toBe(true);
  });
});
