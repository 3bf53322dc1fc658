import { describe, expect, it } from 'vitest';
import { parseQuery, parseTerm } from '../parser/index.js';
import { compareNumbers, compareStrings, compareTerms, sortTerms } from './compare.js';
import { jsonToTerm, termToJSON, valueToJSONText } from './json.js';
import { exprToString, moduleToString, quoteString, termToString } from './print.js';
import { isConstant, isGround, SAFETY_PARAMS, someVar, varsOf } from './walk.js';
import { parseModule } from '../parser/index.js';
import type { Term } from './types.js';

const t = (src: string): Term => {
  const r = parseTerm(src);
  if (!r.term) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.term;
};

describe('compare (OPA value order)', () => {
  it('orders kinds: null < boolean < number < string < array < object < set', () => {
    const xs = ['{1}', '{"a": 1}', '[1]', '"a"', '1', 'true', 'null', 'false'].map(t);
    expect(sortTerms(xs).map(termToString)).toEqual(['null', 'false', 'true', '1', '"a"', '[1]', '{"a": 1}', '{1}']);
  });

  it('compares numbers by exact value', () => {
    expect(compareNumbers('1', '1.0')).toBe(0);
    expect(compareNumbers('1e2', '100')).toBe(0);
    expect(compareNumbers('0.1', '0.10000000000000001')).toBe(-1);
    expect(compareNumbers('-2', '-10')).toBe(1);
    expect(compareNumbers('123456789012345678901234567890', '123456789012345678901234567891')).toBe(-1);
    expect(compareNumbers('1e400', '1e399')).toBe(1);
    expect(compareNumbers('-0', '0')).toBe(0);
  });

  it('compares strings by code point, arrays and objects element-wise', () => {
    expect(compareStrings('\uffff', '😀')).toBe(-1);
    expect(compareStrings('ab', 'b')).toBe(-1);
    expect(compareTerms(t('[1, 2]'), t('[1, 2, 0]'))).toBe(-1);
    expect(compareTerms(t('[2]'), t('[1, 2, 0]'))).toBe(1);
    expect(compareTerms(t('{"a": 2}'), t('{"b": 1}'))).toBe(-1);
    expect(compareTerms(t('{"b": 1, "a": 1}'), t('{"a": 1, "b": 1}'))).toBe(0);
    expect(compareTerms(t('{3, 1}'), t('{1, 3}'))).toBe(0);
  });
});

describe('json', () => {
  it('converts ground terms, sorting sets in OPA order', () => {
    expect(termToJSON(t('{"a": [1, 2.5, true, null], "b": {3, "x", 1}}'))).toEqual({ a: [1, 2.5, true, null], b: [1, 3, 'x'] });
    expect(termToJSON(t('set()'))).toEqual([]);
    expect(() => termToJSON(t('[x]'))).toThrow(/non-ground/);
  });

  it('writes keys that are not strings as Go writes their JSON (OPA\'s ast.JSON)', () => {
    expect(termToJSON(t('{1: "n", {2, 1}: "s", {"b": 1, "a": [true]}: "o", null: 0}'))).toEqual({ '1': 'n', '[1,2]': 's', '{"a":[true],"b":1}': 'o', null: 0 });
    expect(valueToJSONText(t('{"b": 1.50, "a": [1e400, "<&>"], {1}: set()}').value)).toBe('{"[1]":[],"a":[1e400,"\\u003c\\u0026\\u003e"],"b":1.50}');
  });

  it('converts JSON to terms and back', () => {
    const v = { a: [1, 'two', false, null, { c: 1.5 }] };
    expect(termToJSON(jsonToTerm(v))).toEqual(v);
    expect(jsonToTerm(3).value).toEqual({ type: 'number', value: '3' });
  });
});

describe('print', () => {
  it('renders terms as OPA', () => {
    expect(termToString(t('data.test.p'))).toBe('data.test.p');
    expect(termToString(t('input.x[i]'))).toBe('input.x[i]');
    expect(termToString(t('data["a-b"].c["if"]'))).toBe('data["a-b"].c["if"]');
    expect(termToString(t('{2, 1}'))).toBe('{1, 2}');
    expect(termToString(t('[x | x := 1]'))).toBe('[x | assign(x, 1)]');
    expect(termToString(t('{k: v | k = 1; v = 2}'))).toBe('{k: v | k = 1; v = 2}');
    expect(quoteString('a"b\\c\n\u0001é')).toBe('"a\\"b\\\\c\\n\\x01é"');
  });

  it('renders objects in key order and brackets non-name strings in refs as they are', () => {
    expect(termToString(t('{"b": 1, "a": [2, 1], 3: x}'))).toBe('{3: x, "a": [2, 1], "b": 1}');
    expect(termToString(t('data.x["a b"]["contains"].y[1]'))).toBe('data.x["a b"]["contains"].y[1]');
    expect(termToString(t('[f(_, [x | x := 1][0])]'))).toBe('[f(_, [x | assign(x, 1)][0])]');
  });

  it('renders modules as OPA (one rule per line)', () => {
    const m = parseModule('package a.b\n\nimport data.c as d\n\ndefault p := false\n\np if { x := input.y; x > 1 } else := 3 if input.z\n\nq contains 1 if true\n', 'm.rego').module!;
    expect(moduleToString(m)).toBe(
      'package a.b\n\nimport data.c as d\n\ndefault p := false\np = true if { assign(x, input.y); gt(x, 1) } else = 3 if { input.z }\nq contains 1 if { true }',
    );
  });

  it('renders expressions as OPA', () => {
    const e = (src: string): string => exprToString(parseQuery(src).body![0]!);
    expect(e('x = 1')).toBe('x = 1');
    expect(e('x := 1')).toBe('assign(x, 1)');
    expect(e('not x with input as {}')).toBe('not x with input as {}');
    expect(e('some x in [1]')).toBe('some x in [1]');
  });
});

describe('walk', () => {
  const v = (src: string) => t(src).value;
  it('IsGround as OPA: refs ignore their head, comprehensions are ground without vars', () => {
    expect(isGround(v('data.a.b'))).toBe(true);
    expect(isGround(v('data.a[x]'))).toBe(false);
    expect(isGround(v('[1, {"a": {2}}]'))).toBe(true);
    expect(isGround(v('[1, {"a": {y}}]'))).toBe(false);
    expect(isGround(v('[1 | true]'))).toBe(true);
    expect(isGround(v('[x | x = 1]'))).toBe(false);
    expect(isGround(v('[count([1])]'))).toBe(true);
  });

  it('IsConstant: no vars, refs, calls or comprehensions', () => {
    expect(isConstant(v('{"a": [1, null, {true}]}'))).toBe(true);
    expect(isConstant(v('[data.x]'))).toBe(false);
    expect(isConstant(v('[1 | true]'))).toBe(false);
  });

  it('collects vars with the var visitor parameters', () => {
    const e = parseQuery('x = data.a[y]; f(z) with input as w').body!;
    expect([...varsOf(e)].sort()).toEqual(['data', 'eq', 'f', 'input', 'w', 'x', 'y', 'z']);
    expect([...varsOf(e, SAFETY_PARAMS)].sort()).toEqual(['data', 'w', 'x', 'y', 'z']);
    expect([...varsOf(t('[a | b = 1]'), SAFETY_PARAMS)]).toEqual([]);
    expect(someVar(e, (n) => n === 'w')).toBe(true);
    expect(someVar(e, (n) => n === 'q')).toBe(false);
  });
});
