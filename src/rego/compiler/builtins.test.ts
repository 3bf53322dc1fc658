import { describe, expect, it } from 'vitest';
import { BUILTINS, builtinArity, lookupBuiltin, typeToString, wantString } from './builtins.js';

describe('builtins table', () => {
  it('has OPA arities for operators and common builtins', () => {
    expect(builtinArity('eq')).toBe(2);
    expect(builtinArity('internal.member_3')).toBe(3);
    expect(builtinArity('count')).toBe(1);
    expect(builtinArity('sprintf')).toBe(2);
    expect(builtinArity('regex.template_match')).toBe(4);
    expect(builtinArity('time.now_ns')).toBe(0);
    expect(builtinArity('no.such')).toBe(-1);
  });

  it('carries OPA flags', () => {
    expect(lookupBuiltin('walk')?.relation).toBe(true);
    expect(lookupBuiltin('http.send')?.nondeterministic).toBe(true);
    expect(lookupBuiltin('any')?.deprecated).toBe(true);
    expect(lookupBuiltin('print')?.result).toBeUndefined();
    expect(lookupBuiltin('plus')?.infix).toBe('+');
  });

  it('covers every default builtin of OPA (count) and renders types as OPA does', () => {
    expect(BUILTINS.size).toBeGreaterThanOrEqual(190);
    expect(typeToString(lookupBuiltin('minus')!.args[0].type)).toBe('any<number, set[any]>');
    expect(wantString(lookupBuiltin('plus')!)).toBe('(x: number, y: number)');
  });

  it('declares argument and result types and names as OPA\'s builtins.go', () => {
    expect(lookupBuiltin('count')!.resultName).toBe('n');
    expect(typeToString(lookupBuiltin('count')!.args[0].type)).toBe('any<string, array[any], object[any: any], set[any]>');
    expect(typeToString(lookupBuiltin('regex.is_valid')!.args[0].type)).toBe('string');
    expect(typeToString(lookupBuiltin('json.patch')!.args[1].type)).toBe('array[object<op: string, path: any>[any: any]]');
    expect(typeToString(lookupBuiltin('net.cidr_merge')!.args[0].type)).toBe('any<array[any<string>], set[string]>');
    expect(lookupBuiltin('time.format')!.resultName).toBe('formatted timestamp');
    // deprecated and internal builtins are unnamed in OPA
    expect(wantString(lookupBuiltin('set_diff')!)).toBe('(set[any], set[any])');
  });
});
