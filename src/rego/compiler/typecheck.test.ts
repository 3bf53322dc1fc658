// The type checker (check.ts) through the whole compiler: OPA's rego_type_error messages for
// typical mistakes, and valid policies (types unknown, `any`, optional rule keys) accepted.
import { describe, expect, it } from 'vitest';
import { parseModule, parseQuery } from '../parser/index.js';
import { compileModules } from './index.js';
import { TypeChecker } from './typecheck.js';
import { A, N, S, arr, obj, objStatic, or, set, tuple, typeToString, union } from './typesys.js';

function compile(src: string, query = 'data.test = x') {
  const p = parseModule(src, 'test.rego');
  if (!p.module) throw new Error(JSON.stringify(p.errors));
  const q = parseQuery(query);
  if (!q.body) throw new Error(JSON.stringify(q.errors));
  return compileModules({ modules: [{ file: 'test.rego', module: p.module }], queries: [{ name: 'q', body: q.body }] });
}

/** Errors as `row:col: code: message`. */
function errs(src: string, query?: string): string[] {
  return compile(src, query).errors.map((e) => `${e.location?.row}:${e.location?.col}: ${e.code}: ${e.message}`);
}

function ok(src: string, query?: string): void {
  expect(errs(src, query)).toEqual([]);
}

const COLLECTION = 'any<string, array[any], object[any: any], set[any]>';

describe('builtin calls: OPA messages with have/want lines', () => {
  it('count(1): a number is no collection', () => {
    expect(errs('package test\np := count(1)')).toEqual([
      `2:6: rego_type_error: count: invalid argument(s)\n\thave: (number, ???)\n\twant: (collection: ${COLLECTION}, n: number)`,
    ]);
    expect(errs('package test\np if count(1)')).toEqual([
      `2:6: rego_type_error: count: invalid argument(s)\n\thave: (number)\n\twant: (collection: ${COLLECTION}, n: number)`,
    ]);
  });

  it('startswith(1, "a")', () => {
    expect(errs('package test\np if startswith(1, "a")')).toEqual([
      '2:6: rego_type_error: startswith: invalid argument(s)\n\thave: (number, string)\n\twant: (search: string, base: string, result: boolean)',
    ]);
  });

  it('x := "a" + 1', () => {
    expect(errs('package test\np := x if { x := "a" + 1 }')).toEqual([
      '2:18: rego_type_error: plus: invalid argument(s)\n\thave: (string, number, ???)\n\twant: (x: number, y: number, z: number)',
    ]);
  });

  it('arity errors keep OPA wording (undefined function, arity mismatch)', () => {
    expect(errs('package test\np := count([1], 2)')).toEqual([
      `2:6: rego_type_error: count: arity mismatch\n\thave: (array<number>, number, ???)\n\twant: (collection: ${COLLECTION})`,
    ]);
    expect(errs('package test\np := nope(1)')).toEqual(['2:6: rego_type_error: undefined function nope']);
  });

  it('types of local variables flow from assignments, refs and builtin results', () => {
    // object and array element types
    expect(errs('package test\np if { x := {"a": 1}; upper(x.a) == "A" }')).toEqual([
      '2:23: rego_type_error: upper: invalid argument(s)\n\thave: (number, ???)\n\twant: (x: string, y: string)',
    ]);
    expect(errs('package test\np if { x := [1, 2]; startswith(x[0], "a") }')).toEqual([
      '2:21: rego_type_error: startswith: invalid argument(s)\n\thave: (number, string)\n\twant: (search: string, base: string, result: boolean)',
    ]);
    // a builtin's result type
    expect(errs('package test\np if { n := count(input.x); startswith(n, "a") }')[0]).toMatch(/^2:29: rego_type_error: startswith: invalid argument\(s\)\n\thave: \(number, string\)/);
    // iteration over a known array
    expect(errs('package test\np if { some x in ["a", "b"]; x > 1; abs(x) }')[0]).toMatch(/^2:37: rego_type_error: abs: invalid argument\(s\)\n\thave: \(string\)\n\twant: \(x: number, y: number\)$/);
  });

  it('function argument types come from the function definition', () => {
    expect(errs('package test\nf(x) := x + 1\np := f("a")')).toEqual([
      '3:6: rego_type_error: data.test.f: invalid argument(s)\n\thave: (string, ???)\n\twant: (number, number)',
    ]);
    ok('package test\nf(x) := x + 1\np := f(input.n)');
  });

  it('rule types: complete, partial set, partial object, ref heads', () => {
    expect(errs('package test\np := "a"\nq := p + 1')[0]).toMatch(/^3:6: rego_type_error: plus: invalid argument\(s\)\n\thave: \(string, number, \?\?\?\)/);
    expect(errs('package test\ns contains 1\nq := concat(",", s)')).toEqual([
      '3:6: rego_type_error: concat: invalid argument(s)\n\thave: (string, set[number], ???)\n\twant: (delimiter: string, collection: any<array[string], set[string]>, output: string)',
    ]);
    expect(errs('package test\no[k] := 1 if some k in ["a"]\nq := upper(o.a)')[0]).toMatch(/upper: invalid argument\(s\)\n\thave: \(number, \?\?\?\)/);
    expect(errs('package test\na.b.c := 1\nq := upper(a.b.c)')[0]).toMatch(/upper: invalid argument\(s\)\n\thave: \(number, \?\?\?\)/);
  });

  it('comprehension types', () => {
    expect(errs('package test\nxs := [x | x := input.a[_]]\nq := xs + 1')[0]).toMatch(/plus: invalid argument\(s\)\n\thave: \(array\[any\], number, \?\?\?\)/);
    expect(errs('package test\ns := {x | some x in [1, 2]}\nq := concat(",", s)')[0]).toMatch(/have: \(string, set\[number\], \?\?\?\)/);
    expect(errs('package test\no := {k: 1 | some k in ["a"]}\nq := upper(o.a)')[0]).toMatch(/upper: invalid argument\(s\)\n\thave: \(number, \?\?\?\)/);
    // errors inside a comprehension body are reported
    expect(errs('package test\nxs := [y | y := upper(1)]')[0]).toMatch(/^2:17: rego_type_error: upper: invalid argument\(s\)/);
  });

  it('queries are checked against the rules\' types', () => {
    expect(errs('package test\np := "a"', 'x := data.test.p + 1')[0]).toMatch(/^1:6: rego_type_error: plus: invalid argument\(s\)\n\thave: \(string, number, \?\?\?\)/);
    expect(errs('package test\np := 1', 'x := upper(1)')[0]).toMatch(/^1:6: rego_type_error: upper: invalid argument\(s\)/);
  });
});

describe('unification: match error', () => {
  it('x := 1; x == "a" (== is unification in modules)', () => {
    expect(errs('package test\np if { x := 1; x == "a" }')).toEqual(['2:16: rego_type_error: match error\n\tleft  : number\n\tright : string']);
  });

  it('lower(input.x) == 1 compares a string with a number', () => {
    expect(errs('package test\np if lower(input.x) == 1')).toEqual(['2:6: rego_type_error: match error\n\tleft  : string\n\tright : number']);
    // in a query, == stays the `equal` builtin over any
    ok('package test\np := 1', 'lower(input.x) == 1');
  });

  it('composite literals of incompatible shapes', () => {
    expect(errs('package test\np if { [1, "a"] = [x, 2] }')).toEqual(['2:8: rego_type_error: match error\n\tleft  : array<number, string>\n\tright : array<???, number>']);
    ok('package test\np if { [1, y] = [x, "b"]; startswith(y, x) == false }'.replace('startswith(y, x) == false', 'x > 0; startswith(y, "b")'));
  });
});

describe('refs', () => {
  it('into scalars and missing keys of known objects', () => {
    expect(errs('package test\np if { x := 1; x.foo }')).toEqual(['2:16: rego_type_error: undefined ref: x.foo\n\tx.foo\n\t^\n\thave: number']);
    expect(errs('package test\np := {"a": 1}\nq := p.b')).toEqual([
      '3:6: rego_type_error: undefined ref: data.test.p.b\n\tdata.test.p.b\n\t            ^\n\t            have: "b"\n\t            want (one of): ["a"]',
    ]);
  });

  it('functions are not values', () => {
    expect(errs('package test\nf(x) := x\np := data.test.f')[0]).toMatch(/^3:6: rego_type_error: undefined ref: data.test.f\n\tdata.test.f\n\t\^+\n\thave: \(any\) => any/);
  });
});

describe('with: replacing a function by one of another arity', () => {
  it('reports an arity mismatch', () => {
    expect(errs('package test\nf(x) := x\ng(x, y) := x\np if { f(1) with f as g }')[0]).toBe(
      '4:13: rego_type_error: data.test.f: arity mismatch\n\thave: (any, any)\n\twant: (any)',
    );
  });
});

describe('valid policies are accepted', () => {
  it('unknown types (input, data, any) never fail', () => {
    ok(`package test
p := count(input.x) + 1
q if { every x in input.y { startswith(x, "a") } }
r if { x := 1; x == 1 }
s := {1} - 1
t := concat(",", [x | some x in input.list])
u := data.other.thing + 1
v := sprintf("%v", [input.a])
w contains x if { some x in data.roles[input.user] }
y := upper(object.get(input, "k", "default"))
z := x if { x := json.unmarshal(input.s); x.a.b + 1 > 2 }`);
  });

  it('a rule subtree compares to an object literal with a subset of its keys', () => {
    ok(`package test
d.allow := true
d.reject := {"status": 403} if input.deny
t if d == {"allow": true}`);
  });

  it('rules with else chains and several definitions get union types', () => {
    ok(`package test
p := 1 if input.a
else := "one"
q := p + 1 if is_number(p)
r := upper(p) if is_string(p)`);
  });

  it('function results with several definitions', () => {
    ok(`package test
f(x) := 1 if x > 0
f(x) := "neg" if x <= 0
p := f(input.n)`);
  });
});

describe('types (OPA\'s types package)', () => {
  it('prints and orders unions as OPA', () => {
    expect(typeToString(union(set(A), arr(A), obj(A, A), S))).toBe(COLLECTION);
    expect(typeToString(or(N, S))).toBe('any<number, string>');
    expect(typeToString(or(or(N, S), N))).toBe('any<number, string>');
    expect(typeToString(or(A, N))).toBe('any');
    expect(typeToString(tuple(N, S))).toBe('array<number, string>');
    expect(typeToString(objStatic([['b', N], ['a', S]], [S, A]))).toBe('object<a: string, b: number>[string: any]');
  });

  it('the root environment holds builtin declarations', () => {
    const env = TypeChecker.rootEnv();
    const t = env.getByRef([{ value: { type: 'var', value: 'io' } }, { value: { type: 'string', value: 'jwt' } }, { value: { type: 'string', value: 'decode' } }]);
    expect(typeToString(t)).toBe('(string) => array<object[any: any], object[any: any], string>');
    expect(env.getByRef([{ value: { type: 'var', value: 'input' } }])).toEqual(A);
  });
});

// Cases from OPA's v1/ast/check_test.go, run on parsed bodies against the builtins environment.
describe("OPA's check_test.go cases", () => {
  function check(query: string) {
    const q = parseQuery(query);
    if (!q.body) throw new Error(JSON.stringify(q.errors));
    return new TypeChecker().checkBody(TypeChecker.rootEnv(), q.body);
  }
  const typeOf = (r: ReturnType<typeof check>, v: string) => typeToString(r.env.getByValue({ type: 'var', value: v }));

  it.each([
    ['x = 1', { x: 'number' }],
    ['z = 1; y = z; x = y', { x: 'number', y: 'number', z: 'number' }],
    ['[x, 1] = [true, y]', { x: 'boolean', y: 'number' }],
    ['y = [[2], 1]; [[x], 1] = y', { x: 'number', y: 'array<array<number>, number>' }],
    ['[1, "2", x] = data.foo', { x: 'any' }],
    ['{"a": "foo", "b": {"c": x}} = {"a": y, "b": {"c": 2}}', { x: 'number', y: 'string' }],
    ['x = {1: 2}; y = 1; x[y]', { x: 'object<1: number>', y: 'number' }],
    ['x = {1, 2}; y = {{"foo", 1}, x}', { x: 'set[number]', y: 'set[any<set[number], set[any<number, string>]>]' }],
    ['s = {[1, 2], [3, 4]}; s[[x, y]]', { x: 'number', y: 'number' }],
    ['obj = {}; arr = []; obj[i] = v1; arr[j] = v2', { i: 'any', v1: 'any', j: 'number', v2: 'any' }],
    ['a = [1, {"foo": [{"bar": null}, -1, {"bar": true}]}, 3]; x = a[1].foo[_].bar', { x: 'any<null, boolean>' }],
    ['a = [["foo"], 0, {"bar": "baz"}, 2]; b = [0, 1, 2, 3]; a[b[_]][k] = v', { k: 'any<number, string>' }],
    ['plus(1, 2, x); plus(x, 2, y)', { x: 'number', y: 'number' }],
    ['a = [1, "foo", 3]; x = [i | a[_] = i]', { x: 'array[any<number, string>]' }],
    ['x = 1; y = [i | x = i]', { y: 'array[number]' }],
    ['q = {"a": "b", "c": "d"}; {k: [v]} = {k: [q[k]]}', { k: 'string', v: 'any' }],
    ['x = [[1], ["foo"]]; x[_] = [y]', { y: 'any<number, string>' }],
    ['x = {"a": [1], "b": ["foo"]}; x[_] = [y]', { y: 'any<number, string>' }],
  ] as Array<[string, Record<string, string>]>)('infers %s', (query, want) => {
    const r = check(query);
    expect(r.errors.map((e) => e.message)).toEqual([]);
    for (const [v, t] of Object.entries(want)) expect(typeOf(r, v)).toBe(t);
  });

  it.each([
    'null = true',
    'true = null',
    '1 = null',
    '"hello" = null',
    '[1,2,3] = null',
    '[1,2,3] = [1,2,"3"]',
    '[1,2] = [1,2,3]',
    '[ true | true ] = [x | a = [1, "foo"]; x = a[_]]',
    '{"a": 1, "b": 2} = null',
    '{"a": 1, "b": "2"} = {"a": 1, "b": 2}',
    '{"a": 1} = {"a": 1, "b": "2"}',
    '{1,2,3} = null',
    'x = ["str", 1]; x[_] = null',
  ])('one match error: %s', (query) => {
    const r = check(query);
    expect(r.errors.map((e) => e.message.split('\n')[0])).toEqual(['match error']);
  });

  it.each(['plus(true, 1, x)', 'x = [null]; plus(x[0], 1, y)', 'sum([null | true], x)', 'sum([1,2,"3",4], x)', 'contains([1,2,3], "x")', 'sum({"a": 1, "b": 2}, x)', 'sum({1,2,"3",4}, x)'])(
    'one builtin error: %s',
    (query) => {
      expect(check(query).errors).toHaveLength(1);
    },
  );

  it('bad cardinality lists the operands as have', () => {
    expect(check('plus(1)').errors.map((e) => e.message)).toEqual(['plus: too few arguments\n\thave: (number)\n\twant: (x: number, y: number, z: number)']);
    expect(check('plus(1, 2, 3, 4)').errors.map((e) => e.message)).toEqual([
      'plus: too many arguments\n\thave: (number, number, number, number)\n\twant: (x: number, y: number, z: number)',
    ]);
  });

  it('error suppression: a ref error hides the match error it causes; closure errors are reported once', () => {
    expect(check('arr = [1,2,3]; arr[0].deadbeef = 1').errors.map((e) => e.message.split('\n')[0])).toEqual(['undefined ref: arr[0].deadbeef']);
    expect(check('_ = [true | count(1)]').errors.map((e) => e.message.split('\n')[0])).toEqual(['count: invalid argument(s)']);
  });

  it('ref errors: unsupported and invalid, with OPA detail lines', () => {
    expect(check('arr = [[1,2],[3,4]]; arr[1][0].deadbeef').errors.map((e) => e.message)).toEqual([
      'undefined ref: arr[1][0].deadbeef\n\tarr[1][0].deadbeef\n\t^^^^^^^^^\n\thave: number',
    ]);
    expect(check('a = {[1], [2], [3]}; a[["foo"]]').errors.map((e) => e.message)).toEqual([
      'undefined ref: a[["foo"]]\n\ta[["foo"]]\n\t  ^\n\t  have (type): array<string>\n\t  want (type): array<number>',
    ]);
    expect(check('arr = [{"a": 1, "c": 3}, {"b": 2}]; arr[0].b').errors.map((e) => e.message)).toEqual([
      'undefined ref: arr[0].b\n\tarr[0].b\n\t       ^\n\t       have: "b"\n\t       want (one of): ["a" "c"]',
    ]);
  });

  it('function type inference across packages (TestFunctionsTypeInference)', () => {
    const base = `package base
foo([a, b]) := y if { y := split(a, b) }
bar(x) := y if { y := count(x) }
baz([x, y]) := z if { z := sprintf("%s%s", [x, y]) }
qux({"bar": x, "foo": y}) := {a: b} if { a := upper(y); b := json.unmarshal(x) }
corge(x) := y if { a := qux({"bar": x, "foo": x}); y := baz([a["{5: true}"], "BUZ"]) }`;
    const run = (body: string) => {
      const m1 = parseModule(base, 'base.rego').module!;
      const m2 = parseModule('package test\n' + body, 'test.rego').module!;
      const q = parseQuery('x = data').body!;
      return compileModules({ modules: [{ file: 'base.rego', module: m1 }, { file: 'test.rego', module: m2 }], queries: [{ name: 'q', body: q }] }).errors;
    };
    expect(run('fn(_) := y if { y := data.base.foo(["hello", 5]) }')).toHaveLength(1);
    for (const body of [
      'fn(_) := y if { y := data.base.foo(["hello", "ll"]) }',
      'fn(_) := y if { y := data.base.baz(["hello", "ll"]) }',
      'fn(_) := y if { y := data.base.baz([5, ["foo", "bar", true]]) }',
      'fn(_) := y if { y := data.base.corge("this is not json") }',
      'fn(x) := y if { y := [x] }',
      'fn(x) := y if { y := {"k": x} }',
    ]) {
      expect(run(body)).toEqual([]);
    }
    expect(run('p if { x := data.base.foo }')[0].message).toMatch(/^undefined ref: data.base.foo/);
  });
});

describe('deliberately more lenient than OPA (values that can match at run time)', () => {
  it("a builtin's declared options object accepts a variable holding some of its keys", () => {
    ok('package test\np := json.marshal_with_options(input, opts) if { opts := {"pretty": true} }');
    // keys of the wrong type still fail
    expect(errs('package test\np := json.marshal_with_options(input, opts) if { opts := {"pretty": 1} }')[0]).toMatch(/json.marshal_with_options: invalid argument\(s\)/);
  });
});
