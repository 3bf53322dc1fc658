// What the planner must know about a builtin besides its arity: relations (`walk`) are
// iterated like a collection, and void builtins (`internal.print`) have no result to test.
import { lookupBuiltin } from '../compiler/builtins.js';

export interface BuiltinDecl {
  name: string;
  arity: number;
  relation?: boolean;
  void?: boolean;
}

const RELATIONS = new Set(['walk']);
const VOIDS = new Set(['internal.print', 'internal.test_case', 'print']);

/** Arity of the builtins every policy may call, for when the compiler's list lacks one (e.g. a `with` replacement). */
const CORE_ARITY: Record<string, number> = {
  eq: 2, assign: 2, equal: 2, neq: 2, lt: 2, gt: 2, lte: 2, gte: 2,
  plus: 2, minus: 2, mul: 2, div: 2, rem: 2, abs: 1, round: 1, ceil: 1, floor: 1,
  and: 2, or: 2, count: 1, sum: 1, product: 1, max: 1, min: 1, sort: 1,
  concat: 2, startswith: 2, endswith: 2, contains: 2, lower: 1, upper: 1, split: 2,
  trim: 2, trim_space: 1, trim_left: 2, trim_right: 2, trim_prefix: 2, trim_suffix: 2,
  sprintf: 2, format_int: 2, indexof: 2, substring: 3, replace: 3, to_number: 1,
  is_number: 1, is_string: 1, is_boolean: 1, is_array: 1, is_set: 1, is_object: 1, is_null: 1, type_name: 1,
  'internal.member_2': 2, 'internal.member_3': 3, 'internal.print': 1, 'array.concat': 2, 'array.slice': 3,
  'object.get': 3, 'object.union': 2, 'object.remove': 2, 'object.filter': 2, 'object.keys': 1,
  union: 1, intersection: 1, walk: 1, numbers_range: 2, json_marshal: 1, json_unmarshal: 1,
  'json.marshal': 1, 'json.unmarshal': 1, 'json.is_valid': 1, 'regex.match': 2, 'regex.split': 2,
  'internal.template_string': 1,
};

export function builtinDecl(name: string, arityFromCompiler?: number): BuiltinDecl | undefined {
  const known = lookupBuiltin(name);
  if (known) return { name, arity: known.args.length, relation: !!known.relation, void: !known.result };
  const arity = arityFromCompiler ?? CORE_ARITY[name];
  if (arity === undefined) return undefined;
  return { name, arity, relation: RELATIONS.has(name), void: VOIDS.has(name) };
}
