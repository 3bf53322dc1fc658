import { describe, expect, it } from 'vitest';
import { bodyToString, exprToString, ruleToString, termToString } from '../ast/print.js';
import type { Expr, Module, Rule, Term } from '../ast/types.js';
import { parseModule, parseQuery, parseTerm } from './index.js';

function q(src: string): string {
  const r = parseQuery(src, 'q.rego');
  if (r.errors.length > 0) throw new Error(r.errors.map((e) => e.message).join('; '));
  return bodyToString(r.body!);
}

function body(src: string): Expr[] {
  const r = parseQuery(src, 'q.rego');
  expect(r.errors).toEqual([]);
  return r.body!;
}

function mod(src: string): Module {
  const r = parseModule(src, 'm.rego');
  if (r.errors.length > 0) throw new Error(r.errors.map((e) => `${e.location?.row}:${e.location?.col}: ${e.message}`).join('; '));
  return r.module!;
}

function rules(src: string): Rule[] {
  return mod('package test\n' + src).rules;
}

function modErrors(src: string): string[] {
  const r = parseModule(src, 'm.rego');
  expect(r.module).toBeUndefined();
  return r.errors.map((e) => `${e.location?.row}:${e.location?.col}: ${e.code}: ${e.message}`);
}

function qErrors(src: string): string[] {
  const r = parseQuery(src, 'q.rego');
  expect(r.body).toBeUndefined();
  return r.errors.map((e) => `${e.location?.row}:${e.location?.col}: ${e.message}`);
}

describe('operators and precedence', () => {
  it('maps operators to OPA builtin names with OPA precedence', () => {
    expect(q('x := 1 + 2 * 3 - 4 / 5 % 6')).toBe('assign(x, minus(plus(1, mul(2, 3)), rem(div(4, 5), 6)))');
    expect(q('a == b | c & d')).toBe('equal(a, or(b, and(c, d)))');
    expect(q('a != b; a < b; a <= b; a > b; a >= b')).toBe('neq(a, b); lt(a, b); lte(a, b); gt(a, b); gte(a, b)');
    expect(q('x = 1')).toBe('x = 1');
    expect(q('(1 + 2) * 3')).toBe('mul(plus(1, 2), 3)');
    expect(q('1 - 2 - 3')).toBe('minus(minus(1, 2), 3)');
    expect(q('a == b == c')).toBe('equal(equal(a, b), c)');
  });

  it('parses membership with the lowest precedence, as OPA', () => {
    expect(q('x in xs')).toBe('internal.member_2(x, xs)');
    expect(q('k, v in xs')).toBe('internal.member_3(k, v, xs)');
    expect(q('x in xs == true')).toBe('internal.member_2(x, equal(xs, true))');
    expect(q('1 + 1 in xs')).toBe('internal.member_2(plus(1, 1), xs)');
    expect(q('f(x, y in z)')).toBe('f(x, internal.member_2(y, z))');
    const [e] = body('x in xs');
    const op = (e!.terms as Term[])[0]!;
    expect(op.value).toMatchObject({ type: 'ref', value: [{ value: { type: 'var', value: 'internal' } }, { value: { type: 'string', value: 'member_2' } }] });
  });

  it('keeps operators as refs to a single var', () => {
    const [e] = body('x := 1');
    expect((e!.terms as Term[])[0]!.value).toMatchObject({ type: 'ref', value: [{ value: { type: 'var', value: 'assign' } }] });
  });

  it('parses negative numbers, and rejects unary minus on non-numbers as OPA does', () => {
    expect(q('x := -1')).toBe('assign(x, -1)');
    expect(q('x := - 1.5e3')).toBe('assign(x, -1.5e3)');
    expect(q('x := -.5')).toBe('assign(x, -.5)');
    expect(q('x-1')).toBe('minus(x, 1)');
    expect(qErrors('x := -y')).toEqual(['1:7: unexpected ident token: expected number']);
  });
});

describe('terms', () => {
  it('distinguishes sets, objects, empty objects and set()', () => {
    expect(parseTerm('{}').term!.value).toEqual({ type: 'object', value: [] });
    expect(parseTerm('set()').term!.value).toEqual({ type: 'set', value: [] });
    expect(parseTerm('{1, 2}').term!.value.type).toBe('set');
    expect(parseTerm('{"a": 1, "b": [2]}').term!.value.type).toBe('object');
    expect(parseTerm('{1 | 1}').term!.value.type).toBe('setcomprehension');
    expect(parseTerm('{k: v | some k, v in x}').term!.value.type).toBe('objectcomprehension');
    expect(parseTerm('[x | x := 1]').term!.value.type).toBe('arraycomprehension');
    expect(parseTerm('{a + 1: b}').term!.value.type).toBe('object');
    expect(parseTerm('{a | b, c}').term!.value.type).toBe('set');
    expect(termToString(parseTerm('{a | b, c}').term!)).toBe('{c, or(a, b)}');
  });

  it('parses refs with dots, brackets, and on calls and composites', () => {
    expect(q('data.a["b"][x].c')).toBe('data.a.b[x].c');
    expect(q('f(x)[0].y')).toBe('f(x)[0].y');
    expect(q('[1, 2][i]')).toBe('[1, 2][i]');
    expect(q('{"a": 1}.a')).toBe('{"a": 1}.a');
    expect(q('a.b.c(1)')).toBe('a.b.c(1)');
    const t = parseTerm('f(x)[0]').term!;
    expect(t.value.type).toBe('ref');
    expect((t.value as { value: Term[] }).value[0]!.value.type).toBe('call');
    // whitespace ends a ref
    expect(q('x\n[0]')).toBe('x; [0]');
    expect(qErrors('[x [0]]')).toEqual(['1:4: unexpected [ token: expected "," or "]"']);
  });

  it('turns bare data and input into refs', () => {
    expect(parseTerm('input').term!.value).toMatchObject({ type: 'ref', value: [{ value: { type: 'var', value: 'input' } }] });
    expect(parseTerm('data').term!.value.type).toBe('ref');
    expect(parseTerm('x').term!.value).toEqual({ type: 'var', value: 'x' });
  });

  it('renames wildcards to $0, $1, ... and prints them as _', () => {
    const [e] = body('[_, _] = x');
    const arr = (e!.terms as Term[])[1]!.value as { value: Term[] };
    expect(arr.value.map((t) => t.value)).toEqual([{ type: 'var', value: '$0' }, { type: 'var', value: '$1' }]);
    expect(exprToString(e!)).toBe('[_, _] = x');
  });

  it('keeps number text and decodes strings', () => {
    expect(parseTerm('1e400').term!.value).toEqual({ type: 'number', value: '1e400' });
    expect(parseTerm('123456789012345678901234567890').term!.value).toEqual({ type: 'number', value: '123456789012345678901234567890' });
    expect(parseTerm('"a\\tb\\n\\"\\\\\\/"').term!.value).toEqual({ type: 'string', value: 'a\tb\n"\\/' });
    expect(parseTerm('"\\u00e9\\ud83d\\ude00"').term!.value).toEqual({ type: 'string', value: 'é😀' });
    expect(parseTerm('`raw\\n\n"x"`').term!.value).toEqual({ type: 'string', value: 'raw\\n\n"x"' });
    expect(parseTerm('null').term!.value).toEqual({ type: 'null' });
    expect(parseTerm('false').term!.value).toEqual({ type: 'boolean', value: false });
  });

  it('rejects malformed numbers and strings with OPA messages', () => {
    expect(qErrors('x := 01')).toEqual(['1:6: unexpected number token: expected number without leading zero']);
    expect(qErrors('x := 1.')[0]).toContain('expected fraction');
    expect(qErrors('x := "a\\qb"')[0]).toContain('illegal escape sequence');
    expect(qErrors('x := "abc')[0]).toContain('non-terminated string');
    expect(qErrors('x := 1e999999')[0]).toContain('number too big');
  });
});

describe('string interpolation', () => {
  function parts(src: string): unknown[] {
    const t = parseTerm(src).term!;
    expect(t.value.type).toBe('templatestring');
    const v = t.value as { parts: Array<{ kind: string; value?: string; expr?: Expr }> };
    return v.parts.map((p) => (p.kind === 'text' ? p.value : `{${exprToString(p.expr!)}}`));
  }

  it('splits text and expressions, unescaping \\{', () => {
    expect(parts('$"a {x} b"')).toEqual(['a ', '{x}', ' b']);
    expect(parts('$""')).toEqual([]);
    expect(parts('$"\\{42}"')).toEqual(['{42}']);
    expect(parts('$"\\{{42}"')).toEqual(['{', '{42}']);
    expect(parts('$"\\t\\n\\""')).toEqual(['\t\n"']);
    expect(parts('$"{1 + a} {data.x[i]} {"s"}"')).toEqual(['{plus(1, a)}', ' ', '{data.x[i]}', ' ', '{"s"}']);
    expect(parts('$"{$"{a}"} z"')).toEqual(['{$"{a}"}', ' z']);
    expect(parts('$"{{x | some x in a}}"')).toEqual(['{{x | some x in a}}']);
    expect(parts('$"{a with input as {"a": 1}}"')).toEqual(['{a with input as {"a": 1}}']);
  });

  it('supports multi-line raw templates', () => {
    const t = parseTerm('$`a\n{x}\\{y}`').term!;
    expect(t.value).toMatchObject({ type: 'templatestring', multiLine: true });
    expect(parts('$`a\n{x}\\{y}`')).toEqual(['a\n', '{x}', '{y}']);
  });

  it('does not mistake template text for comments', () => {
    const m = mod('package p\nx := 1\np := $"{x} # not a comment" # real\nq := $`{x}\n# still text` # real too\n');
    expect(m.comments.map((c) => c.text)).toEqual([' real', ' real too']);
  });

  it('rejects assignments, unification, not, some and every inside templates', () => {
    expect(qErrors('x := $"{y := 1}"')).toEqual(["1:9: unexpected assignment (':=') in template-string expression"]);
    expect(qErrors('x := $"{y = 1}"')).toEqual(["1:9: unexpected unification ('=') in template-string expression"]);
    expect(qErrors('x := $"{not y}"')).toEqual(["1:9: unexpected negation ('not') in template-string expression"]);
    expect(qErrors('x := $"{some y in z}"')).toEqual(["1:9: unexpected 'some' in template-string expression"]);
  });
});

describe('literals', () => {
  it('parses some, every, not and with', () => {
    expect(q('some x, y')).toBe('some x, y');
    expect(q('some x in xs')).toBe('some x in xs');
    expect(q('some k, v in xs')).toBe('some k, v in xs');
    expect(q('every k, v in xs { k > v }')).toBe('every k, v in xs { gt(k, v) }');
    expect(q('every x in xs { x }')).toBe('every x in xs { x }');
    expect(q('not f(x)[0] with input as 1 with data.a as 2')).toBe('not f(x)[0] with input as 1 with data.a as 2');
    const [s] = body('some k, v in xs');
    expect(s!.terms).toMatchObject({ type: 'some', symbols: [{ value: { type: 'call' } }] });
    const [ev] = body('every k, v in xs { true }');
    expect(ev!.terms).toMatchObject({ type: 'every', key: { value: { value: 'k' } }, value: { value: { value: 'v' } } });
  });

  it('separates expressions by newline or semicolon', () => {
    expect(body('a\nb; c').map((e) => e.index)).toEqual([0, 1, 2]);
  });

  it('reports OPA messages for bad literals', () => {
    expect(qErrors('not some x')).toEqual(["1:5: unexpected some keyword: illegal negation of 'some'"]);
    expect(qErrors('every x in xs')).toEqual(['1:14: unexpected eof token: missing body']);
    expect(qErrors('x with 1 as 2')[0]).toContain('expected ident');
  });
});

describe('keywords in refs', () => {
  it('allows keywords as ref heads and operands, as OPA', () => {
    expect(q('not.foo == foo.not')).toBe('equal(not.foo, foo["not"])');
    expect(q('in.foo == x')).toBe('equal(in.foo, x)');
    // only at the start of a literal (and after `.`), as in OPA's parser
    expect(qErrors('x := in.foo')).toEqual(['1:6: unexpected in keyword']);
    expect(q('x := data.if.else')).toBe('assign(x, data["if"]["else"])');
    const rs = rules('as.foo := 1\nfoo.as := 2\nnot.x contains 1\nnull.y := 1 if { true } else := 2\n');
    expect(rs.map((r) => termToString({ value: { type: 'ref', value: r.head.reference } }))).toEqual([
      'as.foo',
      'foo["as"]',
      'not.x',
      'null.y',
    ]);
    expect(rs[3]!.else).toBeDefined();
  });

  it('treats contains as a plain name outside rule heads', () => {
    expect(q('contains("abc", "b")')).toBe('contains("abc", "b")');
  });
});

describe('rule heads', () => {
  const src = [
    'p := 1',
    'q = 2',
    'r if { true }',
    's if true',
    't contains x if { x := 1 }',
    'u[k] := v if { k := 1; v := 2 }',
    'u2[k] if { k := 1 }',
    'a.b.c := 1',
    'a.b[x].c contains y if { x := 1; y := 2 }',
    'f(x) := y if { y := x }',
    'g(x) if { x }',
    'default h := false',
    'default ff(_) := 1',
    'e := 1 if { false } else := 2 if { false } else := 3',
    'm contains "a"',
  ].join('\n');
  const rs = rules(src);

  it('renders each form as OPA', () => {
    expect(rs.map(ruleToString)).toEqual([
      'p := 1 if { true }',
      'q = 2 if { true }',
      'r = true if { true }',
      's = true if { true }',
      't contains x if { assign(x, 1) }',
      'u[k] := v if { assign(k, 1); assign(v, 2) }',
      'u2[k] = true if { assign(k, 1) }',
      'a.b.c := 1 if { true }',
      'a.b[x].c contains y if { assign(x, 1); assign(y, 2) }',
      'f(x) := y if { assign(y, x) }',
      'g(x) = true if { x }',
      'default h := false',
      'default ff(_) := 1',
      'e := 1 if { false } else = 2 if { false } else = 3 if { true }',
      'm contains "a" if { true }',
    ]);
  });

  it('sets name, reference, key and value as OPA', () => {
    const pick = (r: Rule) => ({
      name: r.head.name,
      ref: r.head.reference.length,
      key: r.head.key ? termToString(r.head.key) : undefined,
      value: r.head.value ? termToString(r.head.value) : undefined,
      assign: r.head.assign,
      args: r.head.args?.length,
      multi: !!r.head.multiValue,
    });
    expect(pick(rs[0]!)).toEqual({ name: 'p', ref: 1, key: undefined, value: '1', assign: true, args: undefined, multi: false });
    expect(pick(rs[2]!)).toMatchObject({ name: 'r', value: 'true', assign: false });
    expect(pick(rs[4]!)).toMatchObject({ name: 't', ref: 1, key: 'x', value: undefined, multi: true });
    expect(pick(rs[5]!)).toMatchObject({ name: 'u', ref: 2, key: 'k', value: 'v', assign: true });
    expect(pick(rs[6]!)).toMatchObject({ name: '', ref: 2, key: 'k', value: 'true' });
    expect(pick(rs[7]!)).toMatchObject({ name: '', ref: 3, key: undefined, value: '1' });
    expect(pick(rs[8]!)).toMatchObject({ name: '', ref: 4, key: 'y', value: undefined, multi: true });
    expect(pick(rs[9]!)).toMatchObject({ name: 'f', ref: 1, value: 'y', args: 1 });
    expect(pick(rs[10]!)).toMatchObject({ name: 'g', value: 'true', args: 1 });
    expect(rs[11]!.default).toBe(true);
    expect(rs[12]!.head.args![0]!.value).toEqual({ type: 'var', value: '$0' });
    expect(rs[13]!.else?.else?.head.value?.value).toEqual({ type: 'number', value: '3' });
    expect(rs[13]!.else?.head.assign).toBe(true);
  });

  it('gives generated bodies the value true', () => {
    expect(rs[0]!.body.map(exprToString)).toEqual(['true']);
    expect(rs[11]!.body.map(exprToString)).toEqual(['true']);
  });

  it('requires if and contains in v1, with OPA messages', () => {
    expect(modErrors('package p\np { true }')).toEqual(['2:1: rego_parse_error: `if` keyword is required before rule body']);
    expect(modErrors('package p\np[x] { x = 1 }')).toEqual([
      '2:1: rego_parse_error: `if` keyword is required before rule body',
      '2:1: rego_parse_error: `contains` keyword is required for partial set rules',
    ]);
    expect(modErrors('package p\nf(x) { true }')).toEqual(['2:1: rego_parse_error: `if` keyword is required before function body']);
    expect(modErrors('package p\np.q')).toEqual(['2:1: rego_parse_error: `contains` keyword is required for partial set rules']);
    expect(modErrors('package p\na.b.c')).toEqual(['2:1: rego_parse_error: rule must have value assignment and/or body declaration']);
    expect(modErrors('package p\np := 1 if { true } else { true }')).toEqual(['2:20: rego_parse_error: `if` keyword is required before rule body']);
  });

  it('rejects invalid heads with OPA messages', () => {
    expect(modErrors('package p\nx')).toEqual(['2:1: rego_parse_error: var cannot be used for rule name']);
    expect(modErrors('package p\ndefault p := x')).toEqual(['2:1: rego_parse_error: illegal default rule (value cannot contain var)']);
    expect(modErrors('package p\np[x] := 1 if { x := 1 } else := 2')).toEqual([
      '2:25: rego_parse_error: else keyword cannot be used on rules with variables in head',
    ]);
    expect(modErrors('package p\np contains x if { x := 1 } else := 2')[0]).toContain('else keyword cannot be used on multi-value rules');
    expect(modErrors('package p\na := 1; b := 2')).toEqual(['2:1: rego_parse_error: multiple expressions cannot be used for rule head']);
  });
});

describe('modules', () => {
  it('parses package, imports and comments', () => {
    const m = mod('package a.b["c"]\nimport data.x\nimport input.y as z\nimport future.keywords.in\nimport future.keywords\nimport rego.v1\n# note\np := 1 # trailing\n');
    expect(termToString({ value: { type: 'ref', value: m.package.path } })).toBe('data.a.b.c');
    expect(m.imports.map((i) => termToString(i.path) + (i.alias ? ` as ${i.alias}` : ''))).toEqual([
      'data.x',
      'input.y as z',
      'future.keywords["in"]',
      'future.keywords',
      'rego.v1',
    ]);
    expect(m.comments.map((c) => c.text)).toEqual([' note', ' trailing']);
  });

  it('reports OPA messages for bad modules', () => {
    expect(modErrors('package foo.')).toEqual(['1:13: rego_parse_error: unexpected eof token: expected ident']);
    expect(modErrors('p := 1')).toEqual(['1:1: rego_parse_error: package expected']);
    expect(modErrors('')).toEqual(['0:0: rego_parse_error: empty module']);
    expect(modErrors('package p\nimport foo.bar')).toEqual([
      '2:8: rego_parse_error: unexpected import path, must begin with one of: {data, future, input, rego}, got: foo (hint: if this is unexpected, try updating OPA)',
    ]);
    expect(modErrors('package p\nimport rego.v2')).toEqual(['2:8: rego_parse_error: invalid import `rego.v2`, must be `rego.v1`']);
    expect(modErrors('package p\nimport future.keywords.foo')[0]).toContain('unexpected keyword, must be one of [contains every if in]');
    expect(modErrors('package p\np := [1, 2')[0]).toContain('unexpected eof token');
    expect(modErrors('package p\np if { x := 1 y := 2 }')).toEqual(['2:15: rego_parse_error: unexpected ident token: expected \\n or ; or }']);
  });

  it('accepts nesting up to OPA\'s recursion limit, deeper than this thread\'s stack, and never throws', { timeout: 120_000 }, () => {
    // OPA's parser counts eight levels per parenthesis: its limit (100000) is 12,500 of them
    const parens = (n: number) => 'package p\np := ' + '('.repeat(n) + '1' + ')'.repeat(n) + '\n';
    const ok = parseModule(parens(2000), 'ok.rego');
    expect(ok.errors).toEqual([]);
    expect(ok.module!.rules[0]!.head.value!.value).toEqual({ type: 'number', value: '1' });
    expect(ok.module!.rules[0]!.head.value!.location!.text).toBe('('.repeat(2000) + '1' + ')'.repeat(2000));
    const arrays = parseModule('package p\np := ' + '['.repeat(3000) + ']'.repeat(3000), 'arrays.rego');
    expect(arrays.errors).toEqual([]);
    let depth = 0;
    for (let t = arrays.module!.rules[0]!.head.value!; t.value.type === 'array' && t.value.value.length > 0; t = t.value.value[0]!) depth++;
    expect(depth).toBe(2999);
    const tooDeep = parseModule(parens(12600), 'deep.rego');
    expect(tooDeep.module).toBeUndefined();
    expect(tooDeep.errors[0]!.message).toBe('max parsing recursion depth exceeded');
  });

  it('parses METADATA annotations', () => {
    const m = mod('# METADATA\n# title: My package\n# description: d\npackage p\n\n# METADATA\n# entrypoint: true\np := 1\n');
    expect(m.annotations).toEqual([
      expect.objectContaining({ scope: 'package', title: 'My package', description: 'd' }),
      expect.objectContaining({ scope: 'rule', entrypoint: true }),
    ]);
  });
});

describe('locations', () => {
  const src = 'package test\n\n# c1\np := x if {\n\tx := input.a[0] + 1\n}\n';
  const m = mod(src);
  const rule = m.rules[0]!;
  const [expr] = rule.body;
  const terms = expr!.terms as Term[];

  it('locates rules, heads and expressions with their text', () => {
    expect(rule.location).toEqual({ file: 'm.rego', row: 4, col: 1, offset: 19, text: 'p := x if {\n\tx := input.a[0] + 1\n}' });
    expect(rule.head.location).toMatchObject({ row: 4, col: 1, text: 'p := x' });
    expect(expr!.location).toMatchObject({ row: 5, col: 2, offset: 32, text: 'x := input.a[0] + 1' });
  });

  it('locates terms, calls and ref operands', () => {
    expect(terms[0]!.location).toMatchObject({ row: 5, col: 4, text: ':=' });
    const call = terms[2]!;
    expect(call.location).toMatchObject({ row: 5, col: 7, text: 'input.a[0] + 1' });
    const ref = (call.value as { value: Term[] }).value[1]!;
    expect(ref.location).toMatchObject({ row: 5, col: 7, text: 'input.a[0]' });
    const operands = (ref.value as { value: Term[] }).value;
    expect(operands.map((t) => [t.location!.col, t.location!.text])).toEqual([[7, 'input'], [13, 'a'], [15, '0']]);
    for (const t of operands) expect(src.slice(t.location!.offset, t.location!.offset + t.location!.text!.length)).toBe(t.location!.text);
  });

  it('locates comments and the package', () => {
    expect(m.comments[0]!.location).toMatchObject({ row: 3, col: 1, text: '# c1' });
    expect(m.package.location).toMatchObject({ row: 1, col: 1 });
    expect(m.package.path[1]!.location).toMatchObject({ row: 1, col: 9, text: 'test' });
  });

  it('counts columns in code points', () => {
    const r = parseQuery('x := "é😀"; y := 1', 'u.rego');
    expect(r.body![1]!.location).toMatchObject({ row: 1, col: 12 });
  });
});
