// base64/base64url/hex/urlquery builtins of the WASM runtime, through compile() and the SDK.
import { describe, it, expect } from 'vitest';
import { evalExpr } from './builtins-test-helpers.js';

describe('base64', () => {
  it('encodes and decodes UTF-8 and binary-looking text like Go', async () => {
    for (const s of ['', 'f', 'fo', 'foo', 'héllo wörld ✓', '😀 emoji', '\u0000\u0001\u007f']) {
      const enc = Buffer.from(s, 'utf8').toString('base64');
      expect(await evalExpr('base64.encode(input.s)', { s })).toBe(enc);
      expect(await evalExpr('base64.decode(input.s)', { s: enc })).toBe(s);
      expect(await evalExpr('base64url.encode(input.s)', { s })).toBe(Buffer.from(s).toString('base64url') + '='.repeat((4 - (enc.replace(/=+$/, '').length % 4)) % 4));
      expect(await evalExpr('base64url.encode_no_pad(input.s)', { s })).toBe(Buffer.from(s).toString('base64url'));
      expect(await evalExpr('base64url.decode(input.s)', { s: Buffer.from(s).toString('base64url') })).toBe(s);
    }
  });

  it('round-trips a large input', async () => {
    const s = 'abcdefghijklmnopqrstuvwxyz0123456789-é'.repeat(5000);
    const enc = Buffer.from(s).toString('base64');
    expect(await evalExpr('base64.encode(input.s)', { s })).toBe(enc);
    expect(await evalExpr('base64.decode(base64.encode(input.s)) == input.s', { s })).toBe(true);
  });

  it("reports Go's error offsets", async () => {
    const cases: Array<[string, number]> = [['a', 0], ['aGVsbG8', 4], ['a===', 1], ['aGVsbG8=x', 8], ['aG!s', 2], ['aG=x', 2]];
    for (const [s, at] of cases) {
      await expect(evalExpr('base64.decode(input.s)', { s })).rejects.toThrow(`eval_builtin_error: base64.decode: illegal base64 data at input byte ${at}`);
    }
    // newlines are ignored, as in Go
    expect(await evalExpr('base64.decode(input.s)', { s: 'aGVs\nbG8=' })).toBe('hello');
  });

  it('is_valid is false for non-strings and bad input', async () => {
    expect(await evalExpr('base64.is_valid(input.s)', { s: 'aGVsbG8=' })).toBe(true);
    expect(await evalExpr('base64.is_valid(input.s)', { s: 'aGVsbG8' })).toBe(false);
    expect(await evalExpr('base64.is_valid(input.s)', { s: 12 })).toBe(false);
  });

  it('type errors name the operand', async () => {
    await expect(evalExpr('base64.encode(input.s)', { s: 1 })).rejects.toThrow('eval_type_error: base64.encode: operand 1 must be string but got number');
  });

  it('base64url.decode refuses lengths that cannot be padded', async () => {
    await expect(evalExpr('base64url.decode(input.s)', { s: 'abcde' })).rejects.toThrow('illegal base64url string: abcde');
  });
});

describe('hex', () => {
  it('encodes lower case and decodes either case', async () => {
    expect(await evalExpr('hex.encode(input.s)', { s: 'é\u0000z' })).toBe(Buffer.from('é\u0000z').toString('hex'));
    expect(await evalExpr('hex.decode(input.s)', { s: '48656C6c6f' })).toBe('Hello');
  });

  it("fails like Go's encoding/hex", async () => {
    await expect(evalExpr('hex.decode(input.s)', { s: 'abc' })).rejects.toThrow('hex.decode: encoding/hex: odd length hex string');
    await expect(evalExpr('hex.decode(input.s)', { s: 'zz' })).rejects.toThrow("encoding/hex: invalid byte: U+007A 'z'");
    await expect(evalExpr('hex.decode(input.s)', { s: 'a\u0001' })).rejects.toThrow('encoding/hex: invalid byte: U+0001');
  });
});

describe('urlquery', () => {
  it('escapes like url.QueryEscape and unescapes', async () => {
    expect(await evalExpr('urlquery.encode(input.s)', { s: 'a b&c=d/é~_.-' })).toBe('a+b%26c%3Dd%2F%C3%A9~_.-');
    expect(await evalExpr('urlquery.decode(input.s)', { s: 'a+b%26c%3dd%2F%C3%A9' })).toBe('a b&c=d/é');
  });

  it('rejects bad escapes with Go text', async () => {
    await expect(evalExpr('urlquery.decode(input.s)', { s: 'x%zzy' })).rejects.toThrow('urlquery.decode: invalid URL escape "%zz"');
    await expect(evalExpr('urlquery.decode(input.s)', { s: 'x%4' })).rejects.toThrow('invalid URL escape "%4"');
  });

  it('encodes objects with sorted keys, arrays in order and sets sorted', async () => {
    expect(await evalExpr('urlquery.encode_object({"b": ["2", "1"], "a": {"y", "x"}, "c d": "e&f"})')).toBe('a=x&a=y&b=2&b=1&c+d=e%26f');
    // Through input: with a literal argument the type checker rejects it at compile time, as OPA does.
    await expect(evalExpr('urlquery.encode_object(input.o)', { o: { a: [1] } })).rejects.toThrow('eval_type_error: urlquery.encode_object: operand 1 values must be string, array[string], or set[string]');
  });

  it('decodes objects like url.ParseQuery', async () => {
    expect(await evalExpr('urlquery.decode_object(input.s)', { s: 'a=1&b=x+y&a=%32&&c' })).toEqual({ a: ['1', '2'], b: ['x y'], c: [''] });
    await expect(evalExpr('urlquery.decode_object(input.s)', { s: 'a=1;b=2' })).rejects.toThrow('invalid semicolon separator in query');
  });
});
