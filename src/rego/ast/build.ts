// Constructors for AST nodes (OPA's VarTerm, StringTerm, RefTerm, NewExpr, Equality.Expr, ...).
import type { Every, Expr, Location, SomeDecl, Term } from './types.js';

export function varTerm(name: string, location?: Location): Term {
  return location ? { value: { type: 'var', value: name }, location } : { value: { type: 'var', value: name } };
}

export function stringTerm(s: string, location?: Location): Term {
  return location ? { value: { type: 'string', value: s }, location } : { value: { type: 'string', value: s } };
}

export function boolTerm(b: boolean, location?: Location): Term {
  return location ? { value: { type: 'boolean', value: b }, location } : { value: { type: 'boolean', value: b } };
}

export function refTerm(terms: Term[], location?: Location): Term {
  return location ? { value: { type: 'ref', value: terms }, location } : { value: { type: 'ref', value: terms } };
}

/** The operator term of a builtin/function call: `plus` is ref [var plus], `a.b` is [var a, string b]. */
export function operatorTerm(name: string, location?: Location): Term {
  const parts = name.split('.');
  return refTerm(
    parts.map((p, i) => (i === 0 ? varTerm(p, location) : stringTerm(p, location))),
    location,
  );
}

export function newExpr(terms: Term | Term[] | SomeDecl | Every, location?: Location): Expr {
  const e: Expr = { index: 0, negated: false, terms, with: [] };
  if (location) e.location = location;
  return e;
}

/** `a = b` (OPA's Equality.Expr). */
export function eqExpr(a: Term, b: Term, location?: Location): Expr {
  return newExpr([operatorTerm('eq', location), a, b], location);
}

/**
 * A deep copy (OPA's Copy()). AST nodes are plain objects and arrays, so a plain copy does it, at
 * a fraction of structuredClone's cost (objects referenced twice are copied twice).
 */
export function clone<T>(x: T): T {
  if (x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) {
    const a = new Array(x.length);
    for (let i = 0; i < x.length; i++) a[i] = clone(x[i]);
    return a as T;
  }
  const o: Record<string, unknown> = {};
  for (const k in x) o[k] = clone((x as Record<string, unknown>)[k]);
  return o as T;
}

/** A deep copy without locations (for structural comparison in tests and keys). */
export function stripLocations<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'location' ? undefined : v))) as T;
}

/** Re-numbers expression indices after a body was rebuilt (OPA's Body.Append sets Index). */
export function reindex<B extends Expr[]>(body: B): B {
  body.forEach((e, i) => (e.index = i));
  return body;
}
