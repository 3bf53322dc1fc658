// Conversions between ground Rego terms and JSON values, as OPA's ast.JSON /
// ast.InterfaceToValue: sets become arrays in OPA's value order; an object key that is not
// a string becomes the text Go's encoding/json writes for its JSON value (`{1}` -> "[1]",
// `{"a": 1}` -> "{\"a\":1}").
import { sortTerms } from './compare.js';
import type { Term, Value } from './types.js';

export type JSONValue = null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue };

/** Converts a ground term to JSON. Throws on vars, refs, calls and comprehensions. */
export function termToJSON(term: Term): JSONValue {
  return valueToJSON(term.value);
}

export function valueToJSON(v: Value): JSONValue {
  switch (v.type) {
    case 'null':
      return null;
    case 'boolean':
      return v.value;
    case 'number':
      return Number(v.value);
    case 'string':
      return v.value;
    case 'array':
      return v.value.map(termToJSON);
    case 'set':
      return sortTerms(v.value).map(termToJSON);
    case 'object': {
      const out: { [k: string]: JSONValue } = {};
      for (const [k, x] of v.value) {
        const key = k.value.type === 'string' ? k.value.value : valueToJSONText(k.value);
        out[key] = termToJSON(x);
      }
      return out;
    }
    default:
      throw new Error(`cannot convert non-ground ${v.type} to JSON`);
  }
}

/**
 * The JSON text of a ground value as Go's encoding/json writes OPA's ast.JSON of it: compact,
 * object keys sorted, numbers exactly as written, `<`, `>`, `&`, U+2028 and U+2029 escaped.
 */
export function valueToJSONText(v: Value): string {
  switch (v.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return v.value ? 'true' : 'false';
    case 'number':
      return v.value;
    case 'string':
      return goJSONString(v.value);
    case 'array':
      return '[' + v.value.map((t) => valueToJSONText(t.value)).join(',') + ']';
    case 'set':
      return '[' + sortTerms(v.value).map((t) => valueToJSONText(t.value)).join(',') + ']';
    case 'object': {
      const entries = new Map<string, string>();
      for (const [k, x] of v.value) entries.set(k.value.type === 'string' ? k.value.value : valueToJSONText(k.value), valueToJSONText(x.value));
      const keys = [...entries.keys()].sort(compareUTF8);
      return '{' + keys.map((k) => goJSONString(k) + ':' + entries.get(k)!).join(',') + '}';
    }
    default:
      throw new Error(`cannot convert non-ground ${v.type} to JSON`);
  }
}

/** Go sorts map keys by their bytes (UTF-8); UTF-16 code unit order differs above U+FFFF. */
function compareUTF8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A string as Go's encoding/json writes it (HTML-safe escaping). */
function goJSONString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Converts a JSON value (as from JSON.parse) to a term. Numbers keep JavaScript's shortest form. */
export function jsonToTerm(value: unknown): Term {
  return { value: jsonToValue(value) };
}

export function jsonToValue(value: unknown): Value {
  if (value === null || value === undefined) return { type: 'null' };
  switch (typeof value) {
    case 'boolean':
      return { type: 'boolean', value };
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`cannot convert ${value} to a Rego number`);
      return { type: 'number', value: String(value) };
    case 'bigint':
      return { type: 'number', value: value.toString() };
    case 'string':
      return { type: 'string', value };
    case 'object':
      if (Array.isArray(value)) return { type: 'array', value: value.map(jsonToTerm) };
      return {
        type: 'object',
        value: Object.entries(value as Record<string, unknown>).map(([k, v]) => [
          { value: { type: 'string', value: k } },
          jsonToTerm(v),
        ]),
      };
    default:
      throw new Error(`cannot convert ${typeof value} to a Rego term`);
  }
}
