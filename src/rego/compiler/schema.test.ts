// JSON Schema to types (OPA's schemaParser) and schema type checking through check(): the set's
// `schema.input`, per-package defaults and METADATA `schemas:` annotations.
import { describe, expect, it } from 'vitest';
import { check } from '../toolchain.js';
import { schemaToType } from './schema.js';
import { typeToString } from './typesys.js';

const t = (s: unknown, resolve?: (u: string) => unknown) => typeToString(schemaToType(s, resolve));

describe('schemaToType', () => {
  it('scalars, objects (closed unless additionalProperties), arrays, unions, $ref and allOf', () => {
    expect(t({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' }, c: { type: 'null' }, d: { type: 'boolean' } } })).toBe('object<a: string, b: number, c: null, d: boolean>');
    expect(t({ type: 'object' })).toBe('object[any: any]');
    expect(t({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'number' } })).toBe('object<a: string>[string: number]');
    expect(t({ type: 'array', items: { type: 'string' } })).toBe('array[string]');
    expect(t({ type: 'array', items: [{ type: 'string' }, { type: 'number' }] })).toBe('array<string, number>');
    expect(t({ anyOf: [{ type: 'string' }, { type: 'number' }] })).toBe('any<number, string>');
    expect(t({ enum: ['a'] })).toBe('any');
    expect(t({ properties: { x: { $ref: '#/$defs/x' } }, $defs: { x: { items: { type: 'string' } } } })).toBe('object<x: array[string]>');
    expect(t({ type: 'object', allOf: [{ properties: { a: { type: 'string' } } }, { if: {}, then: {} }] })).toBe('object<a: string>');
    // another document by $id, relative to the referring one's $id; recursion is any
    const other = { $id: 'https://x.example/s/b.json', type: 'object', properties: { self: { $ref: '#' } } };
    expect(t({ $id: 'https://x.example/s/a.json', properties: { b: { $ref: 'b.json' } } }, (u) => (u === other.$id ? other : undefined))).toBe('object<b: object<self: any>>');
  });
});

const errors = (source: string, schemas: Parameters<typeof check>[0]['schemas'], file = 'p/x.rego') =>
  check({ modules: [{ file, source }], schemas }).errors.map((e) => `${e.location?.file}:${e.location?.row}: ${e.code}: ${e.message.split('\n')[0]}`);

const input = { type: 'object', properties: { user: { type: 'object', properties: { name: { type: 'string' } } }, n: { type: 'number' } } };

describe('schema type checking', () => {
  it("schema.input types input in every rule: an unknown key is an undefined ref with its location, a wrong type a type error", () => {
    expect(errors('package a\n\np if input.user.nam == "x"\n', { set: { input } })).toEqual(['p/x.rego:3: rego_type_error: undefined ref: input.user.nam']);
    expect(errors('package a\n\np if input.n == "x"\n', { set: { input } })).toEqual(['p/x.rego:3: rego_type_error: match error']);
    expect(errors('package a\n\np if input.user.nam == "x"\n', {})).toEqual([]);
  });

  it('package defaults apply to the package and its subpackages only', () => {
    const packages = [{ package: 'sip', input }];
    expect(errors('package sip.x\n\np if input.usr\n', { packages })).toEqual(['p/x.rego:3: rego_type_error: undefined ref: input.usr']);
    expect(errors('package sipx\n\np if input.usr\n', { packages })).toEqual([]);
  });

  it('METADATA schemas: by reference, inline, on a sub-path of input; an unknown schema is an error', () => {
    const byRef = '# METADATA\n# schemas:\n#   - input: schema.in\npackage a\n\np if input.user.nam\n';
    expect(errors(byRef, { set: { in: input } })).toEqual(['p/x.rego:6: rego_type_error: undefined ref: input.user.nam']);
    expect(errors(byRef, { set: {} })).toEqual(['p/x.rego:1: rego_type_error: undefined schema: schema.in']);
    const inline = 'package a\n\n# METADATA\n# schemas:\n#   - input.user: {type: object, properties: {id: {type: string}}}\np if input.user.name\n\nq if input.user.name\n';
    expect(errors(inline, { set: { input } })).toEqual(['p/x.rego:6: rego_type_error: undefined ref: input.user.name']);
  });
});
