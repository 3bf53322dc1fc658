// Conversions between ground Rego terms and JSON values, as OPA's ast.JSON /
// ast.InterfaceToValue: sets become arrays in OPA's value order; object keys that are
// not strings are rendered with the term printer.
import { sortTerms } from './compare.js';
import { termToString } from './print.js';
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
        const key = k.value.type === 'string' ? k.value.value : termToString(k);
        out[key] = termToJSON(x);
      }
      return out;
    }
    default:
      throw new Error(`cannot convert non-ground ${v.type} to JSON`);
  }
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
