import { describe, expect, it } from 'vitest';
import { conformanceCases } from './testing/suite.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);
const hostBuiltinsForSplit = hostBuiltins;

describe('regex.* conformance (direct calls)', () => {
  const n = conformanceCases(['regexfind', 'regexfindallstringsubmatch', 'regexisvalid', 'regexmatch', 'regexmatchtemplate', 'regexreplace', 'globsmatch']);
  it('finds the direct-call cases', () => expect(n).toBeGreaterThanOrEqual(30));
});

describe('regex.* Go RE2 semantics', () => {
  it('rejects what RE2 rejects, with Go\'s message', () => {
    expect(() => call('regex.match', '(?=x)', 'x')).toThrow('eval_builtin_error: regex.match: error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
    expect(() => call('regex.match', 'a**', 'a')).toThrow('invalid nested repetition operator: `**`');
    expect(() => call('regex.match', '\\Z', 'a')).toThrow('invalid escape sequence: `\\Z`');
    expect(call('regex.is_valid', '(a)\\1')).toBe(false); // backreferences are not RE2
  });
  it('accepts RE2-only syntax that JS reads differently', () => {
    expect(call('regex.match', '(?P<x>a)\\z', 'ba')).toBe(true);
    expect(call('regex.match', '[[:alpha:]]+', 'abc')).toBe(true);
    expect(call('regex.match', '\\Qa.b\\E', 'a.b')).toBe(true);
    expect(call('regex.match', '\\Qa.b\\E', 'axb')).toBe(false);
    expect(call('regex.match', '(?i)ABC', 'xabcx')).toBe(true);
  });
  it('is leftmost-first like Go', () => {
    expect(call('regex.find_n', 'a|ab', 'ab', -1)).toEqual(['a']);
  });
  it('expands $1, ${name} and $$ like Go', () => {
    expect(call('regex.replace', 'ab12', '(?P<l>[a-z]+)(\\d+)', '${2}-$l-$$')).toBe('12-ab-$');
    expect(call('regex.replace', 'ab', '(a)', '$1x')).toBe('b'); // `$1x` names group "1x": empty, as in Go
    expect(call('regex.replace', 'aaa', 'a*', '-')).toBe('-');
    expect(call('regex.replace', 'baaac', 'a*', '-')).toBe('-b-c-');
  });
  it('type errors are OPA\'s', () => {
    expect(() => call('regex.match', 1, 'a')).toThrow('eval_type_error: regex.match: operand 1 must be string but got number');
    expect(() => call('regex.find_n', 'a', 'a', 1.5)).toThrow('eval_type_error: regex.find_n: operand 3 must be integer number but got floating-point number');
  });
  it('template_match', () => {
    expect(call('regex.template_match', 'urn:{[a-z]+}:x', 'urn:abc:x', '{', '}')).toBe(true);
    expect(call('regex.template_match', 'a.{x}', 'abx', '{', '}')).toBe(false); // literal parts are quoted
    expect(() => call('regex.template_match', 'urn:{a', 'x', '{', '}')).toThrow('unbalanced braces');
  });
  it('globs_match', () => {
    expect(call('regex.globs_match', 'a.*', '.*b')).toBe(true);
    expect(call('regex.globs_match', 'a+', 'b+')).toBe(false);
    expect(call('regex.globs_match', '[a-c]x', '[c-e]x')).toBe(true);
    expect(() => call('regex.globs_match', 'pqrs]', 'a')).toThrow("input:pqrs], pos:5, set-close ']' with no preceding '['");
  });
});

describe('regex.split: Go RE2 semantics, not the SDK\'s JavaScript RegExp', () => {
  const split = (p: string, s: string) => hostBuiltinsForSplit['regex.split'](p, s);
  it('splits like Go\'s Regexp.Split(s, -1)', () => {
    expect(split(',', 'a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(split('x*', 'axbxxc')).toEqual(['a', 'b', 'c']);
    expect(split('', 'abc')).toEqual(['a', 'b', 'c']);
    expect(split(',', '')).toEqual(['']);
    expect(split('a', 'a')).toEqual(['', '']);
  });
  it('rejects what RE2 rejects (JavaScript would accept a lookahead)', () => {
    expect(() => split('a(?=b)', 'ab')).toThrow(/eval_builtin_error: regex.split: error parsing regexp: invalid or unsupported Perl syntax/);
  });
  it('a policy reaches it through the private alias', async () => {
    const { compile } = await import('../index.js');
    const { loadPolicy } = await import('@open-policy-agent/opa-wasm');
    const r = await compile({ modules: [{ file: 'r.rego', source: 'package r\nx := regex.split(`\\pL+`, "1ab2é3")' }], entrypoints: ['r/x'] });
    expect(r.errors).toEqual([]);
    const policy = await loadPolicy(r.wasm!, undefined, hostBuiltinsForSplit as never);
    // \pL is a Unicode class in RE2; JavaScript's RegExp without the u flag reads it as "pL"
    expect(policy.evaluate({}, 'r/x')).toEqual([{ result: ['1', '2', '3'] }]);
  });
});
