// Rego's static types, after OPA's v1/types package: null, boolean, number, string, arrays
// (static element types and/or a dynamic one), objects (static properties and/or a dynamic
// key/value pair), sets, unions (`any<...>`, kept sorted; `any` with no members is the top
// type) and functions. `undefined` stands for OPA's nil type ("unknown", printed `???`).
//
// The operations (compare, or, select, keys, values, nil) and the string forms follow OPA's
// exactly, since type errors print types and the order of union members is visible there.
import type { Value } from '../ast/types.js';
import { compareValues } from '../ast/index.js';

export type RegoType =
  | { kind: 'any'; of?: RegoType[] } // `of` absent or empty: any value; otherwise a sorted union
  | { kind: 'null' }
  | { kind: 'boolean' }
  | { kind: 'number' }
  | { kind: 'string' }
  | { kind: 'array'; static?: Array<RegoType | undefined>; dynamic?: RegoType }
  | { kind: 'set'; of: RegoType | undefined }
  | {
      kind: 'object';
      static?: Array<[Value, RegoType | undefined]>;
      dynamic?: { key: RegoType | undefined; value: RegoType | undefined };
      /**
       * Static keys may be absent at run time: the object of a rule subtree (`data.p` over rules
       * `p.a`, `p.b`), or a builtin's declared options. OPA has no such notion (it reports a match
       * error); open objects only ever accept more.
       */
      open?: boolean;
    }
  | FunctionType;

export interface FunctionType {
  kind: 'function';
  args: Array<RegoType | undefined>;
  result?: RegoType;
  variadic?: RegoType;
  /** Builtin declarations name their arguments and result (OPA's types.Named); printed in `want`. */
  argNames?: Array<string | undefined>;
  resultName?: string;
}

export type T = RegoType | undefined;

export const A: RegoType = { kind: 'any' };
export const N: RegoType = { kind: 'number' };
export const S: RegoType = { kind: 'string' };
export const B: RegoType = { kind: 'boolean' };
export const NL: RegoType = { kind: 'null' };

export const arr = (of: T): RegoType => ({ kind: 'array', dynamic: of });
export const tuple = (...items: T[]): RegoType => ({ kind: 'array', static: items });
export const set = (of: T): RegoType => ({ kind: 'set', of });
export const obj = (key: T, value: T): RegoType => ({ kind: 'object', dynamic: { key, value } });
/**
 * An object type with static properties (string keys) and an optional dynamic part, as builtin
 * declarations use them (`opts` of json.marshal_with_options). Marked open: unlike OPA, a value
 * whose type lacks some of these keys (`opts := {"pretty": true}`) still unifies.
 */
export const objStatic = (props: Array<[string, RegoType]>, dyn?: [RegoType, RegoType]): RegoType => {
  const o = newObject(
    props.map(([k, v]) => [{ type: 'string', value: k } as Value, v]),
    dyn ? { key: dyn[0], value: dyn[1] } : undefined,
  );
  if (o.kind === 'object') o.open = true;
  return o;
};
/** OPA's types.NewAny: a union, members sorted. */
export const union = (...of: RegoType[]): RegoType => ({ kind: 'any', of: [...of].sort(compareTypes) });

export function newObject(statics: Array<[Value, T]>, dynamic?: { key: T; value: T }): RegoType {
  const st = statics.length > 1 ? [...statics].sort((a, b) => compareValues(a[0], b[0])) : statics;
  const o: RegoType = { kind: 'object' };
  if (st.length) o.static = st;
  if (dynamic) o.dynamic = dynamic;
  return o;
}

export function isTop(t: T): boolean {
  return !!t && t.kind === 'any' && !(t.of && t.of.length);
}

// ---------------------------------------------------------------- ordering (types.Compare)

const order: Record<RegoType['kind'], number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5, set: 6, any: 7, function: 8 };

export function compareTypes(a: T, b: T): number {
  const x = a ? order[a.kind] : -1;
  const y = b ? order[b.kind] : -1;
  if (x !== y) return x > y ? 1 : -1;
  if (!a || !b) return 0;
  switch (a.kind) {
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
      return 0;
    case 'array': {
      const bb = b as Extract<RegoType, { kind: 'array' }>;
      if (a.dynamic && !bb.dynamic) return 1;
      if (bb.dynamic && !a.dynamic) return -1;
      if (a.dynamic && bb.dynamic) {
        const c = compareTypes(a.dynamic, bb.dynamic);
        if (c) return c;
      }
      return compareSlices(a.static ?? [], bb.static ?? []);
    }
    case 'object': {
      const bb = b as Extract<RegoType, { kind: 'object' }>;
      if (a.dynamic && !bb.dynamic) return 1;
      if (bb.dynamic && !a.dynamic) return -1;
      if (a.dynamic && bb.dynamic) {
        const c = compareTypes(a.dynamic.key, bb.dynamic.key) || compareTypes(a.dynamic.value, bb.dynamic.value);
        if (c) return c;
      }
      const sa = a.static ?? [];
      const sb = bb.static ?? [];
      for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
        const c = compareValues(sa[i][0], sb[i][0]) || compareTypes(sa[i][1], sb[i][1]);
        if (c) return c;
      }
      return sa.length < sb.length ? -1 : sa.length > sb.length ? 1 : 0;
    }
    case 'set': {
      const bb = b as Extract<RegoType, { kind: 'set' }>;
      if (!a.of && !bb.of) return 0;
      if (!a.of) return -1;
      if (!bb.of) return 1;
      return compareTypes(a.of, bb.of);
    }
    case 'any':
      return compareSlices(a.of ?? [], (b as Extract<RegoType, { kind: 'any' }>).of ?? []);
    case 'function': {
      const bb = b as FunctionType;
      if (a.args.length !== bb.args.length) return a.args.length < bb.args.length ? -1 : 1;
      for (let i = 0; i < a.args.length; i++) {
        const c = compareTypes(a.args[i], bb.args[i]);
        if (c) return c;
      }
      return compareTypes(a.result, bb.result) || compareTypes(a.variadic, bb.variadic);
    }
  }
}

function compareSlices(a: T[], b: T[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareTypes(a[i], b[i]);
    if (c) return c;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// ---------------------------------------------------------------- unions (types.Or, Any.Merge)

function anyContains(members: RegoType[], other: T): boolean {
  if (other && other.kind === 'function') return false;
  if (members.length === 0) return true;
  return members.some((m) => compareTypes(m, other) === 0);
}

function anyMerge(a: Extract<RegoType, { kind: 'any' }>, other: RegoType): RegoType {
  const of = a.of ?? [];
  if (other.kind === 'any') {
    const o = other.of ?? [];
    if (of.length === 0) return a;
    if (o.length === 0) return other;
    const merged: RegoType[] = [];
    let i = 0;
    let j = 0;
    while (i < of.length || j < o.length) {
      if (i === of.length) {
        merged.push(...o.slice(j));
        break;
      }
      if (j === o.length) {
        merged.push(...of.slice(i));
        break;
      }
      const c = compareTypes(of[i], o[j]);
      if (c < 0) merged.push(of[i++]);
      else if (c > 0) merged.push(o[j++]);
      else {
        merged.push(of[i++]);
        j++;
      }
    }
    return { kind: 'any', of: merged };
  }
  if (anyContains(of, other)) return a;
  const out = [...of];
  let idx = out.findIndex((m) => compareTypes(m, other) >= 0);
  if (idx < 0) idx = out.length;
  out.splice(idx, 0, other);
  return { kind: 'any', of: out };
}

/** OPA's types.Or: the union of a and b (a superset is returned unchanged). */
export function or(a: T, b: T): T {
  if (!a) return b;
  if (!b) return a;
  if (a.kind === 'function' || b.kind === 'function') {
    if (a.kind === 'function' && b.kind === 'function') return functionUnion(a, b);
    return undefined;
  }
  if (a.kind === 'any') return anyMerge(a, b);
  if (b.kind === 'any') return anyMerge(b, a);
  if (compareTypes(a, b) === 0) return a;
  return union(a, b);
}

function functionUnion(a: FunctionType, b: FunctionType): T {
  if (a.args.length !== b.args.length) return undefined;
  if (!!a.variadic !== !!b.variadic) return undefined;
  const f: FunctionType = { kind: 'function', args: a.args.map((x, i) => or(x, b.args[i])) };
  const r = or(a.result, b.result);
  if (r) f.result = r;
  const v = or(a.variadic, b.variadic);
  if (v) f.variadic = v;
  return f;
}

/** OPA's types.Contains: a is a superset of, or equal to, b. */
export function contains(a: T, b: T): boolean {
  if (a && a.kind === 'any') return anyContains(a.of ?? [], b);
  return compareTypes(a, b) === 0;
}

// ---------------------------------------------------------------- selection

/** The type of a JSON-like constant (OPA's types.TypeOf on an ast.JSON value). */
export function typeOfValue(v: Value): T {
  switch (v.type) {
    case 'null':
      return NL;
    case 'boolean':
      return B;
    case 'number':
      return N;
    case 'string':
      return S;
    case 'array':
      return { kind: 'array', static: v.value.map((t) => typeOfValue(t.value)) };
    case 'object':
      return newObject(v.value.map(([k, x]) => [k.value, typeOfValue(x.value)]));
    default:
      return undefined;
  }
}

/** OPA's types.Select: the type of property/element `key` (a constant) of `a`. */
export function select(a: T, key: Value): T {
  if (!a) return undefined;
  switch (a.kind) {
    case 'array': {
      if (key.type !== 'number') return undefined;
      if (!/^-?\d+$/.test(key.value)) return undefined;
      const pos = Number(key.value);
      if (pos < 0) return undefined;
      const st = a.static ?? [];
      if (pos < st.length) return st[pos];
      return a.dynamic;
    }
    case 'object':
      return objectSelect(a, key);
    case 'set': {
      const tpe = typeOfValue(key);
      if (compareTypes(a.of, tpe) === 0) return a.of;
      if (a.of && a.of.kind === 'any' && anyContains(a.of.of ?? [], tpe)) return tpe;
      return undefined;
    }
    case 'any': {
      if (isTop(a)) return A;
      let tpe: T;
      for (const m of a.of!) tpe = or(select(m, key), tpe);
      return tpe;
    }
    default:
      return undefined;
  }
}

export function objectSelect(a: Extract<RegoType, { kind: 'object' }>, key: Value): T {
  for (const [k, v] of a.static ?? []) if (compareValues(k, key) === 0) return v;
  if (a.dynamic && contains(a.dynamic.key, typeOfValue(key))) return a.dynamic.value;
  return undefined;
}

/** OPA's types.Keys: the type of keys that can enumerate `a`. */
export function keys(a: T): T {
  if (!a) return undefined;
  switch (a.kind) {
    case 'array':
      return N;
    case 'object': {
      let tpe: T;
      for (const [k] of a.static ?? []) tpe = or(tpe, typeOfValue(k));
      if (a.dynamic) tpe = or(tpe, a.dynamic.key);
      return tpe;
    }
    case 'set':
      return a.of;
    case 'any': {
      if (isTop(a)) return A;
      let tpe: T;
      for (const m of a.of!) tpe = or(keys(m), tpe);
      return tpe;
    }
    default:
      return undefined;
  }
}

/** OPA's types.Values: the type of values that can be enumerated in `a`. */
export function values(a: T): T {
  if (!a) return undefined;
  switch (a.kind) {
    case 'array': {
      let tpe: T;
      for (const s of a.static ?? []) tpe = or(tpe, s);
      return or(tpe, a.dynamic);
    }
    case 'object': {
      let tpe: T;
      for (const [, v] of a.static ?? []) tpe = or(tpe, v);
      if (a.dynamic) tpe = or(tpe, a.dynamic.value);
      return tpe;
    }
    case 'set':
      return a.of;
    case 'any': {
      if (isTop(a)) return A;
      let tpe: T;
      for (const m of a.of!) tpe = or(values(m), tpe);
      return tpe;
    }
    default:
      return undefined;
  }
}

/** OPA's types.Nil: the type is unknown (or contains an unknown part). */
export function isNil(a: T): boolean {
  if (!a) return true;
  switch (a.kind) {
    case 'function':
      return a.args.some(isNil) || isNil(a.result);
    case 'array':
      if ((a.static ?? []).some(isNil)) return true;
      return a.dynamic ? isNil(a.dynamic) : false;
    case 'object':
      if ((a.static ?? []).some(([, v]) => isNil(v))) return true;
      return a.dynamic ? isNil(a.dynamic.key) || isNil(a.dynamic.value) : false;
    case 'set':
      return isNil(a.of);
    default:
      return false;
  }
}

// ---------------------------------------------------------------- rendering (String())

/** Go's %v of the JSON value OPA keeps as a static object key. */
function keyString(k: Value): string {
  switch (k.type) {
    case 'string':
      return k.value;
    case 'number':
      return k.value;
    case 'boolean':
      return String(k.value);
    case 'null':
      return '<nil>';
    case 'array':
      return '[' + k.value.map((t) => keyString(t.value)).join(' ') + ']';
    case 'object':
      return 'map[' + k.value.map(([a, b]) => `${keyString(a.value)}:${keyString(b.value)}`).join(' ') + ']';
    default:
      return '?';
  }
}

export function typeToString(t: T): string {
  if (!t) return '???';
  switch (t.kind) {
    case 'any':
      return t.of && t.of.length ? `any<${t.of.map(typeToString).join(', ')}>` : 'any';
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
      return t.kind;
    case 'array': {
      let s = 'array';
      if (t.static && t.static.length) s += `<${t.static.map(typeToString).join(', ')}>`;
      if (t.dynamic) s += `[${typeToString(t.dynamic)}]`;
      return s;
    }
    case 'set':
      return `set[${typeToString(t.of)}]`;
    case 'object': {
      let s = 'object';
      if (t.static && t.static.length) s += `<${t.static.map(([k, v]) => `${keyString(k)}: ${typeToString(v)}`).join(', ')}>`;
      if (t.dynamic) s += `[${typeToString(t.dynamic.key)}: ${typeToString(t.dynamic.value)}]`;
      return s;
    }
    case 'function':
      return `${funcArgsString(t, false, false)} => ${typeToString(t.result)}`;
  }
}

/**
 * OPA's FuncArgs.String(): `(x: number, y: number)`. With `withResult`, the (named) result is
 * appended as a last argument, as the checker's `want:` line shows it for calls.
 */
export function funcArgsString(f: FunctionType, withResult: boolean, withNames = true): string {
  const parts = f.args.map((a, i) => named(withNames ? f.argNames?.[i] : undefined, a));
  if (withResult && f.result) parts.push(named(withNames ? f.resultName : undefined, f.result));
  if (f.variadic) parts.push(typeToString(f.variadic) + '...');
  return `(${parts.join(', ')})`;
}

function named(name: string | undefined, t: T): string {
  return name ? `${name}: ${typeToString(t)}` : typeToString(t);
}
