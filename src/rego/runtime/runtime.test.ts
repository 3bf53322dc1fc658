// The AssemblyScript runtime through the ABI: JSON in/out (raw text, read straight from the
// module's memory), numbers, comparison and the native builtins (called from a generated
// plan, evaluated through the official SDK).
import { describe, it, expect, beforeAll } from 'vitest';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type * as ir from '../ir/types.js';
import { emitWasm } from '../wasm/index.js';
import { L, S, planPolicy } from '../wasm/test-helpers.js';

interface Raw {
  roundTrip(json: string): string | null;
  regoDump(json: string): string | null;
}

async function rawModule(): Promise<Raw> {
  const wasm = await emitWasm(planPolicy([], [{ type: 'AssignVarStmt', source: L(0), target: 2 }]));
  const memory = new WebAssembly.Memory({ initial: 5 });
  const { instance } = await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, {
    env: {
      memory, opa_abort: (a: number) => { throw new Error(`abort ${a}`); }, opa_println: () => {},
      ...Object.fromEntries([0, 1, 2, 3, 4].map((n) => [`opa_builtin${n}`, () => { throw new Error('no host builtins here'); }])),
    },
  });
  const ex = instance.exports as Record<string, (...a: number[]) => number>;
  const read = (addr: number) => {
    const bytes = new Uint8Array(memory.buffer);
    let end = addr;
    while (bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(addr, end));
  };
  const parse = (json: string) => {
    const bytes = new TextEncoder().encode(json);
    const addr = ex.opa_malloc!(bytes.length);
    new Uint8Array(memory.buffer).set(bytes, addr);
    return ex.opa_json_parse!(addr, bytes.length);
  };
  return {
    roundTrip(json) {
      const v = parse(json);
      return v === 0 ? null : read(ex.opa_json_dump!(v));
    },
    regoDump(json) {
      const v = parse(json);
      return v === 0 ? null : read(ex.opa_value_dump!(v));
    },
  };
}

describe('JSON parse/dump', () => {
  let raw: Raw;
  beforeAll(async () => {
    raw = await rawModule();
  });

  it('keeps number text as OPA does', () => {
    for (const n of ['1', '1.0', '-0', '1e400', '1E+2', '-12.500', '123456789012345678901234567890', '0.1']) {
      expect(raw.roundTrip(n)).toBe(n);
    }
    expect(raw.roundTrip('[1, 2.50 ,\n -3]')).toBe('[1,2.50,-3]');
  });

  it('dumps objects with sorted keys and escapes strings like Go', () => {
    expect(raw.roundTrip('{"b":1,"a":{"z":true,"y":null},"A":[]}')).toBe('{"A":[],"a":{"y":null,"z":true},"b":1}');
    expect(raw.roundTrip('"a\\"b\\\\c\\n\\t\\u0001<>&\\u2028é😀"')).toBe('"a\\"b\\\\c\\n\\t\\u0001\\u003c\\u003e\\u0026\\u2028é😀"');
    // a lone surrogate becomes U+FFFD (as Go decodes it), dumped as the UTF-8 character
    expect(raw.roundTrip('"\\ud83d\\ude00 \\ud800x"')).toBe('"😀 \ufffdx"');
  });

  it('rejects invalid JSON', () => {
    for (const bad of ['', '{', '[1,]', '01', '1.', 'tru', '"\u0001"', '{"a" 1}', '1 2', '"\\x"']) {
      expect(raw.roundTrip(bad), bad).toBeNull();
    }
  });

  it('parses deep nesting up to a limit without crashing', () => {
    expect(raw.roundTrip('['.repeat(1000) + ']'.repeat(1000))).toBe('['.repeat(1000) + ']'.repeat(1000));
    expect(raw.roundTrip('['.repeat(100000) + ']'.repeat(100000))).toBeNull();
  });

  it('dumps Rego syntax', () => {
    expect(raw.regoDump('{"b":[1,"x"],"a":{}}')).toBe('{"a": {}, "b": [1, "x"]}');
  });

  it('keeps the last of duplicate keys and dumps keys in byte order, whatever their text order', () => {
    expect(raw.roundTrip('{"b":1,"a":2,"b":3}')).toBe('{"a":2,"b":3}');
    expect(raw.roundTrip('{"a\\u0000":1,"a":2,"":3}')).toBe('{"":3,"a":2,"a\\u0000":1}');
    expect(raw.roundTrip('{"abcdefgh\\u0000":1,"abcdefgh":2,"abcdefghi":3,"abcdefgg":4}')).toBe('{"abcdefgg":4,"abcdefgh":2,"abcdefgh\\u0000":1,"abcdefghi":3}');
  });

  it('handles thousands of keys', () => {
    const obj: Record<string, number> = {};
    for (let i = 5000; i > 0; i--) obj[`k${i}`] = i;
    const out = JSON.parse(raw.roundTrip(JSON.stringify(obj))!);
    expect(Object.keys(out)).toEqual(Object.keys(obj).sort());
    expect(out.k1234).toBe(1234);
  });
});

/** result := <builtin>(input[0], input[1], ...) */
async function builtin(name: string, arity: number) {
  const stmts: ir.Stmt[] = [];
  for (let i = 0; i < arity; i++) {
    stmts.push({ type: 'MakeNumberIntStmt', value: i, target: 100 + i });
    stmts.push({ type: 'DotStmt', source: L(0), key: L(100 + i), target: 200 + i });
  }
  stmts.push({ type: 'CallStmt', func: name, args: Array.from({ length: arity }, (_, i) => L(200 + i)), result: 2 });
  const policy = await loadPolicy(await emitWasm(planPolicy([], stmts, {}, [{ name, arity }]), { strictBuiltinErrors: true }));
  return (...args: unknown[]): unknown => {
    const rs = policy.evaluate(args as unknown as object) as Array<{ result: unknown }>;
    return rs.length === 0 ? undefined : rs[0]!.result;
  };
}

/** Input as raw JSON text, to pass numbers JS cannot represent. */
async function builtinRaw(name: string, arity: number) {
  const stmts: ir.Stmt[] = [];
  for (let i = 0; i < arity; i++) {
    stmts.push({ type: 'MakeNumberIntStmt', value: i, target: 100 + i });
    stmts.push({ type: 'DotStmt', source: L(0), key: L(100 + i), target: 200 + i });
  }
  stmts.push({ type: 'CallStmt', func: name, args: Array.from({ length: arity }, (_, i) => L(200 + i)), result: 2 });
  stmts.push({ type: 'CallStmt', func: 'json.marshal', args: [L(2)], result: 2 });
  const policy = await loadPolicy(await emitWasm(planPolicy([], stmts, {}, [{ name, arity }, { name: 'json.marshal', arity: 1 }]), { strictBuiltinErrors: true }));
  return (argsJson: string): string | undefined => {
    const rs = policy.evaluate(new TextEncoder().encode(argsJson).buffer as ArrayBuffer) as Array<{ result: string }>;
    return rs.length === 0 ? undefined : rs[0]!.result;
  };
}

describe('numbers', () => {
  it('does exact arithmetic on big numbers and prints as OPA', async () => {
    const plus = await builtinRaw('plus', 2);
    expect(plus('[9223372036854775807, 1]')).toBe('9223372036854775808');
    expect(plus('[0.1, 0.2]')).toBe('0.3');
    expect(plus('[1e1000, 1]')).toBe('1' + '0'.repeat(999) + '1');
    expect(plus('[1.5, -1.5]')).toBe('0');
    expect(plus('[28857836529306024611913, -28857836529306024611912]')).toBe('1');
    const mul = await builtinRaw('mul', 2);
    expect(mul('[123456789123456789, 1000000000000]')).toBe('123456789123456789000000000000');
    expect(mul('[0.000001, 0.5]')).toBe('5e-07');
    expect(mul('[2.5, 1000000]')).toBe('2500000');
    const div = await builtinRaw('div', 2);
    expect(div('[1, 3]')).toBe('0.33333333333333333333');
    expect(div('[10, 4]')).toBe('2.5');
    expect(div('[6, 3]')).toBe('2');
    const minus = await builtinRaw('minus', 2);
    expect(minus('[-9223372036854775808, 1]')).toBe('-9223372036854775809');
  });

  it('rounds and takes remainders like OPA', async () => {
    const round = await builtin('round', 1);
    expect([round(2.5), round(-2.5), round(2.4), round(-0.4)]).toEqual([3, -3, 2, 0]);
    const ceil = await builtin('ceil', 1);
    const floor = await builtin('floor', 1);
    expect([ceil(1.01), ceil(-1.5), floor(1.5), floor(-1.5)]).toEqual([2, -1, 1, -2]);
    const rem = await builtin('rem', 2);
    expect([rem(7, 3), rem(-7, 3)]).toEqual([1, -1]);
    expect(() => rem(1.5, 1)).toThrow(/eval_builtin_error: rem: modulo on floating-point number/);
    const div = await builtin('div', 2);
    expect(() => div(1, 0)).toThrow(/eval_builtin_error: div: divide by zero/);
    const abs = await builtin('abs', 1);
    expect(abs(-3.5)).toBe(3.5);
  });

  it('compares numbers by value whatever their text', async () => {
    const equal = await builtinRaw('equal', 2);
    expect(equal('[1, 1.0]')).toBe('true');
    expect(equal('[1e2, 100]')).toBe('true');
    expect(equal('[28857836529306024611913, 28857836529306024611912]')).toBe('false');
    const lt = await builtinRaw('lt', 2);
    expect(lt('[1e400, 1e401]')).toBe('true');
    expect(lt('[-0.5, -0.25]')).toBe('true');
    const count = await builtinRaw('count', 1);
    expect(count('[{"1": 1, "1.0": 2}]')).toBe('2');
  });

  it('orders values across types as OPA does', async () => {
    const sort = await builtin('sort', 1);
    expect(sort([[1], 'b', { a: 1 }, 2, null, true, 'a', false, 1.5])).toEqual([null, false, true, 1.5, 2, 'a', 'b', [1], { a: 1 }]);
    const max = await builtin('max', 1);
    expect(max([1, 'x', [0]])).toEqual([0]);
    expect(max([])).toBeUndefined();
  });
});

describe('builtins', () => {
  it('aggregates', async () => {
    expect(await builtin('count', 1).then((f) => [f('héllo😀'), f([1, 2]), f({ a: 1 })])).toEqual([6, 2, 1]);
    expect((await builtin('sum', 1))([1, 2.5, 3])).toBe(6.5);
    expect((await builtin('product', 1))([2, 3, 4])).toBe(24);
    expect((await builtin('min', 1))([3, 1, 2])).toBe(1);
    const count = await builtin('count', 1);
    expect(() => count(5)).toThrow('eval_type_error: count: operand 1 must be one of {array, object, set, string} but got number');
  });

  it('strings', async () => {
    const b = async (name: string, arity: number, ...args: unknown[]) => (await builtin(name, arity))(...args);
    expect(await b('concat', 2, ', ', ['a', 'b', 'c'])).toBe('a, b, c');
    expect(await b('startswith', 2, 'sip:alice@example.com', 'sip:')).toBe(true);
    expect(await b('endswith', 2, 'alice@example.com', '.org')).toBe(false);
    expect(await b('contains', 2, 'hello', 'ell')).toBe(true);
    expect(await b('lower', 1, 'ÀBC Ωx')).toBe('àbc ωx');
    expect(await b('upper', 1, 'àbc ωx')).toBe('ÀBC ΩX');
    // the ASCII prefix loop: the letters' neighbours stay, and runes after the prefix still map
    const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
    expect(await b('lower', 1, ascii)).toBe(ascii.toLowerCase());
    expect(await b('upper', 1, ascii)).toBe(ascii.toUpperCase());
    expect(await b('lower', 1, 'SIP:Alice@EXAMPLE.com;Ω=ÉTÉ')).toBe('sip:alice@example.com;ω=été');
    expect(await b('upper', 1, 'sip:alice@example.com;ω=été')).toBe('SIP:ALICE@EXAMPLE.COM;Ω=ÉTÉ');
    expect(await b('lower', 1, '')).toBe('');
    expect(await b('split', 2, 'a,b,,c', ',')).toEqual(['a', 'b', '', 'c']);
    expect(await b('split', 2, 'hé', '')).toEqual(['h', 'é']);
    expect(await b('trim', 2, '  xx hi xx ', ' x')).toBe('hi');
    expect(await b('trim_left', 2, 'aabca', 'a')).toBe('bca');
    expect(await b('trim_right', 2, 'aabca', 'a')).toBe('aabc');
    expect(await b('trim_prefix', 2, 'sip:bob', 'sip:')).toBe('bob');
    expect(await b('trim_suffix', 2, 'a.rego', '.rego')).toBe('a');
    expect(await b('trim_space', 1, '\t hi \n')).toBe('hi');
    expect(await b('indexof', 2, 'héllo', 'l')).toBe(2);
    expect(await b('indexof', 2, 'hello', 'z')).toBe(-1);
    expect(await b('substring', 3, 'héllo', 1, 3)).toBe('éll');
    expect(await b('substring', 3, 'hello', 2, -1)).toBe('llo');
    expect(await b('replace', 3, 'a-b-c', '-', '+')).toBe('a+b+c');
    expect(await b('strings.reverse', 1, 'abç')).toBe('çba');
    expect(await b('format_int', 2, 255.9, 16)).toBe('ff');
    expect(await b('format_int', 2, -5, 2)).toBe('-101');
    expect(await b('to_number', 1, '1.5')).toBe(1.5);
    expect(await b('to_number', 1, true)).toBe(1);
    const up = await builtin('upper', 1);
    expect(() => up(1)).toThrow('eval_type_error: upper: operand 1 must be string but got number');
  });

  it('types', async () => {
    const tn = await builtin('type_name', 1);
    expect([tn(null), tn(true), tn(1), tn('s'), tn([]), tn({})]).toEqual(['null', 'boolean', 'number', 'string', 'array', 'object']);
    expect((await builtin('is_string', 1))(1)).toBe(false);
    expect((await builtin('is_number', 1))(1)).toBe(true);
  });

  it('collections', async () => {
    const b = async (name: string, arity: number, ...args: unknown[]) => (await builtin(name, arity))(...args);
    expect(await b('object.get', 3, { a: { b: [5, 6] } }, ['a', 'b', 1], 'd')).toBe(6);
    expect(await b('object.get', 3, { a: 1 }, 'z', 'd')).toBe('d');
    expect(await b('object.keys', 1, { b: 1, a: 2 })).toEqual(['a', 'b']);
    expect(await b('object.remove', 2, { a: 1, b: 2, c: 3 }, ['a', 'c'])).toEqual({ b: 2 });
    expect(await b('object.union', 2, { a: { x: 1 }, b: 1 }, { a: { y: 2 }, b: 2 })).toEqual({ a: { x: 1, y: 2 }, b: 2 });
    expect(await b('object.filter', 2, { a: 1, b: 2 }, ['b'])).toEqual({ b: 2 });
    expect(await b('array.concat', 2, [1], [2, 3])).toEqual([1, 2, 3]);
    expect(await b('array.slice', 3, [1, 2, 3, 4], 1, 10)).toEqual([2, 3, 4]);
    expect(await b('array.reverse', 1, [1, 2, 3])).toEqual([3, 2, 1]);
    expect(await b('internal.member_2', 2, 2, [1, 2])).toBe(true);
    expect(await b('internal.member_2', 2, 'v', { k: 'v' })).toBe(true);
    expect(await b('internal.member_3', 3, 'k', 'v', { k: 'v' })).toBe(true);
    expect(await b('internal.member_3', 3, 1, 'x', ['a', 'x'])).toBe(true);
    expect(await b('numbers.range', 2, 3, 1)).toEqual([3, 2, 1]);
    expect(await b('json.marshal', 1, { b: [1, 'x'], a: null })).toBe('{"a":null,"b":[1,"x"]}');
    expect(await b('json.unmarshal', 1, '{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(await b('bits.and', 2, 12, 10)).toBe(8);
  });
});

describe('object lookups', () => {
  // result := input.o[input.k]: keys that share 8-byte prefixes, differ only in length or by
  // a NUL byte, in objects small (linear scan) and large (binary search), sorted or not.
  it('finds every key and no other, for any size and order', async () => {
    const stmts: ir.Stmt[] = [
      { type: 'DotStmt', source: L(0), key: S(0), target: 10 },
      { type: 'DotStmt', source: L(0), key: S(1), target: 11 },
      { type: 'DotStmt', source: L(10), key: L(11), target: 2 },
    ];
    const policy = await loadPolicy(await emitWasm(planPolicy(['o', 'k'], stmts)));
    const keys = ['', 'a', 'a\u0000', 'b', 'abcdefgh', 'abcdefgh\u0000', 'abcdefghi', 'abcdefgi', 'abcdefghij', 'abcdefghik', 'x'.repeat(20), 'x'.repeat(21), 'é', 'ab', 'ba', 'z', 'zz', 'zzz', 'zzzz', 'y'];
    const get = (json: string) => {
      const rs = policy.evaluate(new TextEncoder().encode(json).buffer as ArrayBuffer) as Array<{ result: unknown }>;
      return rs.length === 0 ? undefined : rs[0]!.result;
    };
    for (let n = 1; n <= keys.length; n++) {
      for (const order of [keys.slice(0, n), keys.slice(0, n).reverse()]) {
        const obj = '{' + order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(k + '!')}`).join(',') + '}';
        for (const k of keys) {
          const want = keys.indexOf(k) < n ? k + '!' : undefined;
          expect(get(`{"o":${obj},"k":${JSON.stringify(k)}}`), `${n} ${JSON.stringify(k)}`).toBe(want);
        }
      }
    }
  });
});
