// json.filter/remove/patch/marshal_with_options, walk, graph.*, strings.replace_n and friends,
// array.flatten and the number fixes, through compile() and the SDK.
import { describe, it, expect } from 'vitest';
import { evalExpr, evalRule } from './builtins-test-helpers.js';

describe('json.filter / json.remove', () => {
  const doc = { a: { b: { c: 7, d: 8 }, x: [{ y: 1, z: 2 }, { y: 3 }] }, e: 9, 'k/l': { '~m': 1 } };

  it('keeps or drops the selected paths (strings with ~ escapes, arrays of segments)', async () => {
    expect(await evalExpr('json.filter(input, ["a/b/c", "k~1l/~0m"])', doc)).toEqual({ a: { b: { c: 7 } }, 'k/l': { '~m': 1 } });
    expect(await evalExpr('json.filter(input, {["a", "x", "1"], "e"})', doc)).toEqual({ a: { x: [{ y: 3 }] }, e: 9 });
    expect(await evalExpr('json.remove(input, ["/a/b", "a/x/0/z", "k~1l"])', doc)).toEqual({ a: { x: [{ y: 1 }, { y: 3 }] }, e: 9 });
  });

  it('gives OPA type errors', async () => {
    await expect(evalExpr('json.filter(input.s, ["a"])', { s: 'x' })).rejects.toThrow('eval_type_error: json.filter: operand 1 must be object but got string');
    await expect(evalExpr('json.remove({}, input.p)', { p: 'a' })).rejects.toThrow('json.remove: operand 2 must be one of {set, array} but got string');
    await expect(evalExpr('json.remove({}, input.p)', { p: [1] })).rejects.toThrow(
      'json.remove: operand 2 must be one of {set, array} containing string paths or array of path segments but got number',
    );
  });

  it('handles a large document', async () => {
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 2000; i++) big[`k${i}`] = { keep: i, drop: [i, i] };
    const got = (await evalExpr('json.remove(input, {sprintf("k%d/drop", [i]) | some i in numbers.range(0, 1999)})', big)) as Record<string, unknown>;
    expect(Object.keys(got)).toHaveLength(2000);
    expect(got.k1999).toEqual({ keep: 1999 });
  });
});

describe('json.patch', () => {
  it('applies RFC 6902 operations', async () => {
    const ops = [
      { op: 'add', path: '/a/-', value: 3 },
      { op: 'add', path: '/a/0', value: 0 },
      { op: 'replace', path: '/b', value: { c: 1 } },
      { op: 'move', from: '/b/c', path: '/d' },
      { op: 'copy', from: '/a', path: '/e' },
      { op: 'remove', path: '/a/1' },
      { op: 'test', path: '/d', value: 1 },
    ];
    expect(await evalExpr('json.patch({"a": [1, 2], "b": 0}, input)', ops)).toEqual({ a: [0, 2, 3], b: {}, d: 1, e: [0, 1, 2, 3] });
  });

  it('is undefined when an operation fails', async () => {
    for (const ops of [
      [{ op: 'add', path: '/x/y', value: 1 }],
      [{ op: 'remove', path: '/nope' }],
      [{ op: 'test', path: '/a', value: 2 }],
      [{ op: 'add', path: '/a/01', value: 2 }],
      [{ op: 'bogus', path: '/a' }],
      [{ op: 'add', path: '/a' }],
    ]) {
      expect(await evalExpr('json.patch({"a": [1]}, input)', ops)).toBeUndefined();
    }
  });

  it('edits sets (the key must equal the value) and the root', async () => {
    expect(await evalExpr('json.patch({"s": {"a"}}, [{"op": "add", "path": "/s/b", "value": "b"}])')).toEqual({ s: ['a', 'b'] });
    expect(await evalExpr('json.patch({"s": {"a"}}, [{"op": "add", "path": "/s/b", "value": "c"}])')).toBeUndefined();
    expect(await evalExpr('json.patch({"a": 1}, [{"op": "add", "path": "", "value": [1]}])')).toEqual([1]);
  });

  it('treats the root path "" as OPA\'s edittree does', async () => {
    const patch = (doc: unknown, ops: unknown[]) => evalExpr('json.patch(input.doc, input.ops)', { doc, ops });
    expect(await patch({ foo: 'bar' }, [{ op: 'replace', path: '', value: { baz: 'qux' } }])).toEqual({ baz: 'qux' });
    expect(await patch('foo', [{ op: 'replace', path: '', value: 'bar' }])).toBe('bar');
    // removed, then set again
    expect(await patch({ a: 1 }, [{ op: 'remove', path: '' }, { op: 'add', path: '', value: [2] }])).toEqual([2]);
    // removed as the last effective operation: no document, undefined
    expect(await patch({ a: 1 }, [{ op: 'remove', path: '' }])).toBeUndefined();
    // a removed document cannot be removed again, edited below, copied from or tested
    for (const op of [
      { op: 'remove', path: '' },
      { op: 'add', path: '/a', value: 1 },
      { op: 'copy', from: '', path: '' },
      { op: 'test', path: '', value: { a: 1 } },
    ]) {
      expect(await patch({ a: 1 }, [{ op: 'remove', path: '' }, op, { op: 'add', path: '', value: 0 }]), JSON.stringify(op)).toBeUndefined();
    }
    // move/copy from "" take the whole document
    expect(await patch({ a: 1 }, [{ op: 'copy', from: '', path: '/b' }])).toEqual({ a: 1, b: { a: 1 } });
    expect(await patch({ a: 1 }, [{ op: 'test', path: '', value: { a: 1 } }])).toEqual({ a: 1 });
  });
});

describe('json.marshal_with_options', () => {
  const v = { b: [1, { c: null }], a: {}, d: [], s: 'x' };
  it('pretty prints like Go MarshalIndent (prefix before the first line too)', async () => {
    expect(await evalExpr('json.marshal_with_options(input, {"indent": "  "})', v)).toBe(JSON.stringify(v, ['a', 'b', 'c', 'd', 's'], '  '));
    expect(await evalExpr('json.marshal_with_options(input, {"prefix": "> ", "indent": "\\t"})', [1])).toBe('> [\n> \t1\n> ]');
    expect(await evalExpr('json.marshal_with_options(input, {"pretty": false, "indent": "  "})', v)).toBe('{"a":{},"b":[1,{"c":null}],"d":[],"s":"x"}');
  });
  it('rejects unknown options', async () => {
    await expect(evalExpr('json.marshal_with_options(1, {"bogus": 1})')).rejects.toThrow('eval_type_error: json.marshal_with_options: operand 2 object contained unknown key bogus');
  });
});

describe('walk', () => {
  it('yields every [path, value] pair, root first', async () => {
    expect(await evalRule('r := [p | walk({"a": [1, {"b": 2}]}, [p, _])]')).toEqual([[], ['a'], ['a', 0], ['a', 1], ['a', 1, 'b']]);
    expect(await evalRule('r := {v | walk(input, [["x", _, "y"], v])}', { x: [{ y: 1 }, { y: 2 }, { z: 3 }] })).toEqual([1, 2]);
  });
  it('walks a deep document', async () => {
    let doc: unknown = 'leaf';
    for (let i = 0; i < 200; i++) doc = { n: doc };
    expect(await evalRule('r := count([1 | walk(input, _)])', doc)).toBe(201);
  });
});

describe('graph.reachable / reachable_paths', () => {
  const g = { a: ['b'], b: ['c', 'd'], c: ['a'], d: [], e: ['a'] };
  it('finds reachable vertices from sets or arrays', async () => {
    expect(await evalExpr('graph.reachable(input, {"b"})', g)).toEqual(['a', 'b', 'c', 'd']);
    expect(await evalExpr('graph.reachable(input, ["d", "zz"])', g)).toEqual(['d']);
    await expect(evalExpr('graph.reachable(input.g, input.i)', { g, i: 'a' })).rejects.toThrow('eval_type_error: graph.reachable: operand 2 must be {array, set} but got string');
  });
  it('lists paths, stopping at cycles', async () => {
    expect(await evalExpr('graph.reachable_paths(input, {"a"})', g)).toEqual([['a', 'b', 'c'], ['a', 'b', 'd']]);
  });
});

describe('strings.replace_n', () => {
  it('replaces left to right, the first (sorted) pattern winning', async () => {
    expect(await evalExpr('strings.replace_n({"a": "1", "ab": "2", "b": "3"}, "abcab")')).toBe('13c13');
    expect(await evalExpr('strings.replace_n({"é": "e", "ü": "u"}, "Müller-Lüdenscheid Café")')).toBe('Muller-Ludenscheid Cafe');
    // an empty pattern matches between bytes, as Go's replacer
    expect(await evalExpr('strings.replace_n({"": "-"}, "ab")')).toBe('-a-b-');
    expect(await evalExpr('strings.replace_n({}, "ab")')).toBe('ab');
  });
  it('handles long input', async () => {
    const s = 'x<y>'.repeat(20000);
    expect(await evalExpr('strings.replace_n({"<": "&lt;", ">": "&gt;"}, input)', s)).toBe('x&lt;y&gt;'.repeat(20000));
  });
});

describe('strings.any_prefix_match / any_suffix_match', () => {
  it('accepts strings, arrays and sets', async () => {
    expect(await evalExpr('strings.any_prefix_match("sip:alice", {"tel:", "sip:"})')).toBe(true);
    expect(await evalExpr('strings.any_suffix_match(["a.example.com", "b.test"], "example.org")')).toBe(false);
    expect(await evalExpr('strings.any_suffix_match({"a.example.com"}, [".com"])')).toBe(true);
  });
  it('names the element type in errors', async () => {
    await expect(evalExpr('strings.any_suffix_match(input, "x")', ['a', 1])).rejects.toThrow(
      'eval_type_error: strings.any_suffix_match: operand 1 must be array of strings but got array containing number',
    );
  });
});

describe('numbers', () => {
  it('array.flatten flattens one level', async () => {
    expect(await evalExpr('array.flatten([[1, [2]], 3, []])')).toEqual([1, [2], 3]);
  });
  it('bits shifts work on integers beyond int64 (exact text)', async () => {
    expect(await evalExpr('json.marshal(bits.lsh(9223372036854775807, 3))')).toBe('73786976294838206456');
    expect(await evalExpr('json.marshal(bits.rsh(73786976294838206457, 3))')).toBe('9223372036854775807');
    expect(await evalExpr('json.marshal(bits.rsh(-36893488147419103233, 1))')).toBe('-18446744073709551617');
    expect(await evalExpr('bits.rsh(-7, 1)')).toBe(-4);
    await expect(evalExpr('bits.lsh(1, -1)')).rejects.toThrow('eval_type_error: bits.lsh: operand 2 must be an unsigned integer number but got a negative integer');
  });
  it('to_number refuses NaN and infinities with a type error', async () => {
    for (const s of ['NaN', '-inf', '+Infinity']) {
      await expect(evalExpr('to_number(input)', s)).rejects.toThrow('eval_type_error: to_number: operand 1 must be valid number string but got string');
    }
    expect(await evalExpr('to_number(input)', '+12.5')).toBe(12.5);
  });
  it('object.get with an empty path is the object; object.subset of mismatched kinds is undefined', async () => {
    expect(await evalExpr('object.get({"a": 1}, [], 0)')).toEqual({ a: 1 });
    expect(await evalExpr('object.subset({1, 2}, [1])')).toBeUndefined();
    expect(await evalExpr('object.subset({"a": {"s": {1, 2}, "l": [1, 2, 3]}}, {"a": {"s": {2}, "l": [2, 3]}})')).toBe(true);
  });
});

describe('json.is_valid', () => {
  it('is false for non-strings and invalid text, true for any JSON document', async () => {
    expect(await evalExpr('[json.is_valid(x) | some x in input]', ['{"a":[1,2.5e3,null]}', ' "x" ', '{"a":}', '01', '[1,]', 5, null])).toEqual([
      true, true, false, false, false, false, false,
    ]);
  });
});
